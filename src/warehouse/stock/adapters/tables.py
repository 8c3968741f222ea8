"""The tables of stock: locations, the projection, the ledger, serialized units, RFID sweeps and
the change feed. Quantities are exact (integer millionths); every time is UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

locations = Table(
    "locations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent_id", BigInteger, ForeignKey("locations.id"), nullable=True),
    # '/SITE/ZONE/BIN/': descendants of X are the rows whose path starts with X's path
    Column("path", String(1024), nullable=False, unique=True),
    Column("negative_policy", String(8), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # GS1 keys (migration 0016): a GLN, and an extension ('' for none) that tells apart the
    # locations sharing one GLN (an SGLN); each pair names one location
    Column("gln", String(13), nullable=True),
    Column("gln_extension", String(20), nullable=False, server_default=""),
    Index("uq_locations_gln", "gln", "gln_extension", unique=True),
)


stock = Table(
    "stock",
    metadata,
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("location_id", BigInteger, ForeignKey("locations.id"), primary_key=True),
    Column("lot", String(64), primary_key=True),  # '' when the product has no lots
    Column("on_hand", Quantity, nullable=False),
    Column("reserved", Quantity, nullable=False),
    Column("version", BigInteger, nullable=False),  # per-row change counter for live feeds
    Column("updated_at", UTCDateTime, nullable=False),
    # what a row is listed and filtered by, copied (never change): see migration 0005
    Column("sku", String(64), nullable=False),
    Column("location_code", String(64), nullable=False),
    Column(
        "location_path",
        String(1024).with_variant(String(1024, collation="C"), "postgresql"),
        nullable=False,
    ),
    Index(None, "location_id"),
    Index(
        "ix_stock_listing",
        "sku",
        "location_code",
        "lot",
        postgresql_where=text("on_hand <> 0 OR reserved <> 0"),
        sqlite_where=text("on_hand <> 0 OR reserved <> 0"),
    ),
    Index(
        "ix_stock_subtree",
        "location_path",
        "sku",
        "location_code",
        "lot",
        postgresql_where=text("on_hand <> 0 OR reserved <> 0"),
        sqlite_where=text("on_hand <> 0 OR reserved <> 0"),
    ),
)


movements = Table(
    "movements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("from_location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("to_location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("serial", String(64)),
    Column("epc", String(128)),
    Column("expiry", Date),
    Column("code", String(512)),
    Column("order_ref", String(64)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("origin", String(8), nullable=False),  # mqtt | api
    Column("event_id", String(36)),
    Column("agent_id", String(64)),
    Column("device", String(64)),
    Column("station", String(64)),
    Column("actor", String(64)),
    Column("flags", String(200), nullable=False),  # comma-separated; '' when none
    Index(None, "product_id", "id"),
    Index(None, "from_location_id", "id"),
    Index(None, "to_location_id", "id"),
    Index(None, "occurred_at"),
    Index(
        "ix_movements_order_ref",
        "order_ref",
        "id",
        postgresql_where=text("order_ref IS NOT NULL"),
        sqlite_where=text("order_ref IS NOT NULL"),
    ),
)


# What each detached month of the ledger added to each (product, location, lot): the ledger's
# months still attached plus these equal the projection (adapters/partitions.py).
ledger_archive = Table(
    "ledger_archive",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("product_id", BigInteger, primary_key=True),
    Column("location_id", BigInteger, primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("qty", Quantity, nullable=False),
    Column("movements", BigInteger, nullable=False),  # how many the month held
    Column("archived_at", UTCDateTime, nullable=False),
)

serial_units = Table(
    "serial_units",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("serial", String(64)),
    Column("epc", String(128), unique=True),
    Column("lot", String(64), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    # where the ledger's movements last put it (location_id also follows RFID): migration 0009
    Column("ledger_location_id", BigInteger, ForeignKey("locations.id"), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("product_id", "serial"),
)


# The lots the ledger has seen, per product: the first expiry reported for each and when it first
# arrived anywhere (FEFO and FIFO read these rather than the ledger). Kept by the ledger's
# append; migration 0010.
lots = Table(
    "lots",
    metadata,
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("expiry", Date),
    Column("first_seen_at", UTCDateTime, nullable=False),
)


# A counting station's RFID sweep of a location: what the units said was there, what was seen.
rfid_sweeps = Table(
    "rfid_sweeps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("swept_at", UTCDateTime, nullable=False),
    Column("expected", BigInteger, nullable=False),
    Column("observed", BigInteger, nullable=False),
    Column("missing", Text, nullable=False),  # JSON list of EPCs
    Column("unexpected", Text, nullable=False),  # JSON list of EPCs
    Index(None, "location_id", "swept_at"),
)


# The change feed behind GET /stream/stock: one row per projection change, written by the same
# statement that changes the projection. ``position`` is given after the commit, in commit order,
# by the stream's sequencer (see adapters/stock_feed.py): ids are taken at insert, and two
# transactions can commit in the other order.
stock_changes = Table(
    "stock_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("position", BigInteger, unique=True),
    Column("tx", BigInteger, nullable=False),  # the writing transaction (PostgreSQL's xid8)
    Column("product_id", BigInteger, nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("lot", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location_code", String(64), nullable=False),
    Column("location_path", String(1024), nullable=False),
    Column("on_hand", Quantity, nullable=False),
    Column("reserved", Quantity, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Index(
        "ix_stock_changes_unsequenced",
        "id",
        postgresql_where=text("position IS NULL"),
        sqlite_where=text("position IS NULL"),
    ),
)
