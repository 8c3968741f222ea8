"""The tables of valuation: each product's cost layers per site, and the entry every movement
that crosses a site's edge leaves (migration 0014)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

# One row per layer: FIFO keeps many per (product, site), oldest id first; moving average and
# standard cost keep one. A deficit is a layer of negative qty and value.
cost_layers = Table(
    "cost_layers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("site", String(64), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("value_minor", BigInteger, nullable=False),
    Column("unit_cost", Quantity, nullable=False),  # minor units per unit, to 6 places
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "product_id", "site", "id"),
)

# The change each movement made to a site's stock value (and the revaluations of standard cost
# changes). A movement within a site makes none; one between two sites makes two.
# ``movement_id`` has no foreign key: the ledger may be partitioned by month
# (stock/adapters/partitions.py).
valuation_entries = Table(
    "valuation_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("movement_id", BigInteger),  # None: a revaluation, which no movement made
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("site", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("value_minor", BigInteger, nullable=False),
    Column("variance_minor", BigInteger, nullable=False),
    Column("source", String(12), nullable=False),
    Column("ref", String(64)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "site", "occurred_at"),
    Index(None, "occurred_at"),
    Index(None, "ref", "product_id"),
    Index(None, "movement_id"),
)
