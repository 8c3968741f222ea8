"""The tables. Quantities are exact (integer millionths); every time is UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from warehouse.adapters import orm_base, orm_orders, orm_pos
from warehouse.adapters.types import BigId, Quantity, UTCDateTime

metadata = orm_base.metadata

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
    Column("kind", String(8), nullable=False),  # gtin | alias
    Index(None, "product_id"),
)

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

serial_units = Table(
    "serial_units",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("serial", String(64)),
    Column("epc", String(128), unique=True),
    Column("lot", String(64), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("product_id", "serial"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("agent_id", String(64)),
    Column("site", String(64)),
    Column("seq", BigInteger),
    Column("type", String(16), nullable=False),
    Column("status", String(8), nullable=False),  # applied | rejected | recorded
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", LargeBinary),  # the event as received (NULL for rows from before 0003)
    Column("payload_hash", String(32)),  # BLAKE2b-128 of the payload: tells conflicts apart
    Index(None, "agent_id", "seq"),
)

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("boot", BigInteger, nullable=False),
    Column("acked_seq", BigInteger, nullable=False),
    Column("max_seq", BigInteger, nullable=False),
    Column("state", String(8)),
    Column("state_at", UTCDateTime),
    Column("health", Text),
    Column("heartbeat_at", UTCDateTime),
)

seq_gaps = Table(
    "seq_gaps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), ForeignKey("agents.agent_id"), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("resync_requested_at", UTCDateTime),  # the last resync command sent for it
    Column("resync_count", BigInteger, nullable=False, server_default=text("0")),
    Column("unrecoverable_at", UTCDateTime),  # the agent no longer has these seqs
    Index(None, "agent_id", "closed_at"),
)

rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("topic", String(256)),
    Column("event_id", String(36)),
    Column("agent_id", String(64)),
    Column("site", String(64)),
    Column("seq", BigInteger),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_size", BigInteger, nullable=False),
    Column("payload_hash", String(32)),
    Column("original_payload", LargeBinary),  # a conflicting duplicate's first body
    Index(None, "received_at"),
    Index(None, "event_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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

# One row: raised by every catalog change, read once per ingest batch and API request, so the
# catalog caches of every process drop what changed (service_layer.resolve.Catalog).
catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# People who sign in to the API. Passwords are argon2id hashes; a run of failed logins locks
# the account for a while (service_layer.access).
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed_logins", BigInteger, nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A role at a site ('*': every site).
user_grants = Table(
    "user_grants",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("site", String(64), primary_key=True),
)

# Rotating refresh tokens: a login starts a family, each refresh rotates to a new member, and a
# member presented after it was rotated revokes the whole family (it was stolen, or replayed).
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("family", String(32), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index(None, "family"),
)

# Keys for integrations: shown once, kept as a SHA-256 of their random secret.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("grants", Text, nullable=False),  # JSON [[role, site], ...]
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# Registered edge agents and their MQTT credentials (a Mosquitto PBKDF2-SHA512 hash).
devices = Table(
    "devices",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Every manual change: who, when, what, before and after. Append-only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("site", String(64)),
    Column("before", Text),  # JSON
    Column("after", Text),  # JSON
    Index(None, "site", "id"),
)


# the tables of orders and the exceptions queue, on the same metadata (orm_orders.py)
allocations = orm_orders.allocations
floor_exceptions = orm_orders.floor_exceptions
package_lines = orm_orders.package_lines
packages = orm_orders.packages
purchase_order_lines = orm_orders.purchase_order_lines
purchase_orders = orm_orders.purchase_orders
sales_order_lines = orm_orders.sales_order_lines
sales_orders = orm_orders.sales_orders
sscc_series = orm_orders.sscc_series
returns = orm_orders.returns
return_lines = orm_orders.return_lines
count_sessions = orm_orders.count_sessions
count_lines = orm_orders.count_lines
transfers = orm_orders.transfers
transfer_lines = orm_orders.transfer_lines

# the point of sale and the stock change feed (orm_pos.py)
tax_rates = orm_pos.tax_rates
price_lists = orm_pos.price_lists
prices = orm_pos.prices
promotions = orm_pos.promotions
registers = orm_pos.registers
register_sessions = orm_pos.register_sessions
pos_sales = orm_pos.pos_sales
pos_sale_lines = orm_pos.pos_sale_lines
pos_sale_taxes = orm_pos.pos_sale_taxes
pos_tenders = orm_pos.pos_tenders
pos_refunds = orm_pos.pos_refunds
pos_refund_lines = orm_pos.pos_refund_lines
stock_changes = orm_pos.stock_changes
