"""The tables of valuation: each product's cost layers per site (a position), and the entry
every movement that crosses a site's edge leaves (migration 0014)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, Table

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

# One row per position (a product at a site): its layers oldest first, as JSON
# ``[[qty, value_minor, unit_cost], ...]`` with the decimals as strings. FIFO keeps many layers,
# moving average and standard cost one; a deficit is a layer of negative qty and value. A row
# is what costing locks (FOR UPDATE) and rewrites, once per batch that moves the product there.
cost_positions = Table(
    "cost_positions",
    metadata,
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("site", String(64), primary_key=True),
    Column("layers", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The change each movement made to a site's stock value (and the revaluations of standard cost
# changes). A movement within a site makes none; one between two sites makes two.
# No foreign keys: the ledger may be partitioned by month (stock/adapters/partitions.py), and
# a product's is checked by the movement's own row already (a check here cost a third of the
# statement that writes a batch's entries).
valuation_entries = Table(
    "valuation_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("movement_id", BigInteger),  # None: a revaluation, which no movement made
    Column("product_id", BigInteger, nullable=False),  # the movement's (its ledger row checks it)
    Column("site", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("value_minor", BigInteger, nullable=False),
    Column("variance_minor", BigInteger, nullable=False),
    Column("source", String(12), nullable=False),
    Column("ref", String(64)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # two indexes only: every batch of the ingest writes here (reports sum whole ranges anyway)
    Index(None, "site", "occurred_at"),
    Index(None, "ref", "product_id"),
)
