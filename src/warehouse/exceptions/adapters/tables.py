"""The table of the exceptions queue."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    String,
    Table,
    Text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

# The exceptions queue.
floor_exceptions = Table(
    "floor_exceptions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(12), nullable=False),
    Column("site", String(64)),
    Column("event_id", String(36)),
    Column("agent_id", String(64)),
    Column("station", String(64)),
    Column("order_ref", String(64)),
    Column("sku", String(64)),
    Column("location", String(64)),
    Column("lot", String(64)),
    Column("qty", Quantity),
    Column("code", String(128)),
    Column("detail", Text, nullable=False),
    Column("suggestions", String(200), nullable=False),  # comma-separated resolutions
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(128)),
    Column("resolution", String(32)),
    Column("note", Text),
    Index(None, "status", "id"),
    Index(None, "site", "status", "id"),
    Index(None, "event_id"),
    Index(None, "kind", "status", "sku"),
)
