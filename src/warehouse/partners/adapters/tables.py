"""The tables of partners: suppliers and customers, and what each supplier sells (migration
0015). Orders point at their partner (``purchase_orders.partner_id``, ``sales_orders``')."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

partners = Table(
    "partners",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("supplier", Boolean, nullable=False),
    Column("customer", Boolean, nullable=False),
    Column("gln", String(13), unique=True),
    Column("currency", String(3)),
    Column("payment_terms_days", Integer),
    Column("lead_time_days", Integer),
    Column("address", JSON),  # {street, city, postal_code, country}
    Column("contacts", JSON, nullable=False),  # [{name, email, phone, role}]
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column(
        "partner_id",
        BigInteger,
        ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("supplier_sku", String(64)),
    Column("lead_time_days", Integer),
    Column("min_order_qty", Quantity),
    Column("order_multiple", Quantity),
    Column("unit_cost_minor", BigInteger),
    Column("preferred", Boolean, nullable=False),
    Index(None, "product_id"),
)
