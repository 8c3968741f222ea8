"""The tables of cycle counts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

# Count sessions: a book snapshot of a location subtree, what was counted, the variance.
count_sessions = Table(
    "count_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("blind", Boolean, nullable=False),
    Column("status", String(12), nullable=False),  # open, approved, cancelled
    Column("snapshot_movement_id", BigInteger, nullable=False),  # the ledger's last id then
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", UTCDateTime),
    Index(None, "site", "status"),
)


count_lines = Table(
    "count_lines",
    metadata,
    Column(
        "session_id",
        BigInteger,
        ForeignKey("count_sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("location_id", BigInteger, ForeignKey("locations.id"), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("book", Quantity, nullable=False),
    Column("counted", Quantity),  # None: not counted yet
)
