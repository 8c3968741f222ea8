"""The tables of orders, packages, reservations and the exceptions queue (migration 0007).

Kept apart from orm.py, on the same metadata, so each module stays readable; orm.py re-exports
them, and everything refers to them as ``orm.<table>``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from warehouse.adapters.orm_base import metadata
from warehouse.adapters.types import BigId, Quantity, UTCDateTime

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("supplier", String(200), nullable=False),
    Column("expected_date", Date),
    Column("status", String(16), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Index(None, "site", "status"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "order_id",
        BigInteger,
        ForeignKey("purchase_orders.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("line_no", Integer, nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("received", Quantity, nullable=False),
    Column("lot", String(64), nullable=False),  # '' when any lot will do
    Column("expiry", Date),
    UniqueConstraint("order_id", "line_no"),
    Index(None, "product_id"),
)

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("customer", String(200), nullable=False),
    Column("requested_date", Date),
    Column("status", String(20), nullable=False),
    Column("shortage", String(12), nullable=False),
    Column("reserve_minutes", Integer),  # how long a confirmation holds its stock
    Column("reserved_until", UTCDateTime),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "status", "reserved_until"),
    Index(None, "site", "status"),
)

sales_order_lines = Table(
    "sales_order_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "order_id", BigInteger, ForeignKey("sales_orders.id", ondelete="CASCADE"), nullable=False
    ),
    Column("line_no", Integer, nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("reserved", Quantity, nullable=False),  # reserved and not yet picked
    Column("picked", Quantity, nullable=False),
    Column("packed", Quantity, nullable=False),
    Column("shipped", Quantity, nullable=False),
    Column("backordered", Quantity, nullable=False),
    Column("returned", Quantity, nullable=False),
    UniqueConstraint("order_id", "line_no"),
)

# Pick tasks: reserved stock of an order line at one location and lot. Picked goods stay
# reserved where the pick put them (``staged_location_id``) until they are shipped.
allocations = Table(
    "allocations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "line_id",
        BigInteger,
        ForeignKey("sales_order_lines.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("order_id", BigInteger, ForeignKey("sales_orders.id"), nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("qty", Quantity, nullable=False),  # still to pick here
    Column("picked", Quantity, nullable=False),
    Column("staged_location_id", BigInteger, ForeignKey("locations.id")),
    Column("staged", Quantity, nullable=False),  # picked, not yet shipped
    Column("packed", Quantity, nullable=False),  # of those, packed
    Index(None, "order_id"),
    Index(None, "line_id"),
)

# Packages: inbound ones announced by an advance shipping notice, outbound ones packed here.
packages = Table(
    "packages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sscc", String(18), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("status", String(12), nullable=False),  # expected, received, packed, shipped
    Column("purchase_order_id", BigInteger, ForeignKey("purchase_orders.id")),
    Column("sales_order_id", BigInteger, ForeignKey("sales_orders.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "sales_order_id"),
    Index(None, "purchase_order_id"),
)

package_lines = Table(
    "package_lines",
    metadata,
    Column(
        "package_id", BigInteger, ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("expiry", Date),
    Column("qty", Quantity, nullable=False),
    Column("allocation_id", BigInteger, ForeignKey("allocations.id")),  # outbound
    Column("location_id", BigInteger, ForeignKey("locations.id")),  # outbound: where it waits
)

# The next SSCC serial reference per site (and company prefix).
sscc_series = Table(
    "sscc_series",
    metadata,
    Column("site", String(64), primary_key=True),
    Column("company_prefix", String(12), primary_key=True),
    Column("next_ref", BigInteger, nullable=False),
)

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

# Returns (RMA) against a sales order: what came back, and what became of each line.
returns = Table(
    "returns",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("sales_order_id", BigInteger, ForeignKey("sales_orders.id"), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "sales_order_id"),
)

return_lines = Table(
    "return_lines",
    metadata,
    Column("return_id", BigInteger, ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("order_line_id", BigInteger, ForeignKey("sales_order_lines.id"), nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("disposition", String(12), nullable=False),  # restock | quarantine | scrap
    Column("to_location_id", BigInteger, ForeignKey("locations.id")),
)

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


# Transfers between locations, and between sites through TRANSIT.
transfers = Table(
    "transfers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("from_site", String(64), nullable=False),
    Column("to_site", String(64), nullable=False),
    Column("from_location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("to_location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("status", String(12), nullable=False),  # draft, in_transit, received, cancelled
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "from_site", "status"),
    Index(None, "to_site", "status"),
)

transfer_lines = Table(
    "transfer_lines",
    metadata,
    Column(
        "transfer_id", BigInteger, ForeignKey("transfers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("shipped", Quantity, nullable=False),
    Column("received", Quantity, nullable=False),
)
