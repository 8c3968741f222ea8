"""The tables of the catalog: products and their codes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

products = Table(
    "products",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("tracking", String(8), nullable=False),
    Column("negative_policy", String(8), nullable=False),
    Column("reorder_point", Quantity, nullable=True),
    Column("category", String(64), nullable=True),
    Column("costing", String(8), nullable=True),  # fifo | average | standard; None: the default
    Column("standard_cost_minor", BigInteger, nullable=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# Every code that finds a product: GTINs (normalised to 14 digits) and aliases, one namespace.
product_codes = Table(
    "product_codes",
    metadata,
    Column("code", String(128), primary_key=True),
    Column("product_id", BigInteger, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # gtin | alias | pack
    Column("pack_level", String(8)),  # packs: inner | case | pallet
    Column("pack_qty", Quantity),  # packs: base units in one
    Index(None, "product_id"),
)
