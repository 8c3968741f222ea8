"""The tables of orders: purchase and sales orders, pick tasks (allocations), packages and their
SSCC series, returns and transfers (migration 0007)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("supplier", String(200), nullable=False),
    Column("partner_id", BigInteger, ForeignKey("partners.id")),  # None: a free-text supplier
    Column("currency", String(3)),  # of its lines' unit costs; None: the book currency
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
    Column("unit_cost_minor", BigInteger),  # per base unit; None: not priced
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
    Column("partner_id", BigInteger, ForeignKey("partners.id")),  # None: a free-text customer
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
