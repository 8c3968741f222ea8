"""The tables of the point of sale (migration 0008)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, Quantity, UTCDateTime

tax_rates = Table(
    "tax_rates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("rate", Numeric(7, 4), nullable=False),  # percent
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),  # inclusive; None: open-ended
    Index(None, "site", "category", "valid_from"),
)


price_lists = Table(
    "price_lists",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("tax_inclusive", Boolean, nullable=False),
    Column("cash_step_minor", Integer, nullable=False),
    Column("priority", Integer, nullable=False),  # the highest valid list prices an item
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("site", "name"),
)


prices = Table(
    "prices",
    metadata,
    Column(
        "price_list_id",
        BigInteger,
        ForeignKey("price_lists.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("product_id", BigInteger, ForeignKey("products.id"), primary_key=True),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("tax_category", String(32), nullable=False),
    Column("unit_cost_minor", BigInteger),  # for margins, where known
)


promotions = Table(
    "promotions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("code", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("skus", Text, nullable=False),  # JSON list
    Column("qty", Integer, nullable=False),
    Column("get_qty", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("valid_from", Date),
    Column("valid_to", Date),
    UniqueConstraint("site", "code"),
)


registers = Table(
    "registers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("location_id", BigInteger, ForeignKey("locations.id"), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("next_receipt", BigInteger, nullable=False),  # gapless per register
    Column("created_at", UTCDateTime, nullable=False),
)


register_sessions = Table(
    "register_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("register_id", BigInteger, ForeignKey("registers.id"), nullable=False),
    Column("cashier", String(128), nullable=False),
    Column("status", String(8), nullable=False),  # open, closed
    Column("float_minor", BigInteger, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("counted_minor", BigInteger),
    Column("z_report", Text),  # JSON, frozen at closing
    # who opened it: the API, or an edge register under its own number (migration 0011)
    Column("source", String(8), nullable=False, server_default="api"),
    Column("session_no", BigInteger),
    Index(None, "register_id", "status"),
    UniqueConstraint("register_id", "session_no"),
)


# The drawer opened without a sale: cash paid in or out, or a no-sale (migration 0011).
pos_drawer_events = Table(
    "pos_drawer_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("session_id", BigInteger, ForeignKey("register_sessions.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # paid_in, paid_out, no_sale
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", String(200)),
    Column("cashier", String(128), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("event_id", String(36), unique=True),  # an edge register's; None through the API
    Index(None, "session_id"),
)


pos_sales = Table(
    "pos_sales",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sale_id", String(64), nullable=False, unique=True),  # the client's id
    Column("fingerprint", String(64), nullable=False),  # tells a retry from another body
    Column("register_id", BigInteger, ForeignKey("registers.id"), nullable=False),
    Column("session_id", BigInteger, ForeignKey("register_sessions.id")),
    Column("receipt_no", BigInteger, nullable=False),
    Column("site", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("source", String(8), nullable=False),  # api, edge
    Column("cashier", String(128), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("rounding_minor", BigInteger, nullable=False),
    Column("change_minor", BigInteger, nullable=False),
    Column("reported_total_minor", BigInteger),  # what an edge register said
    Column("tax_inclusive", Boolean, nullable=False),
    Column("event_id", String(36)),
    UniqueConstraint("register_id", "receipt_no"),
    Index(None, "session_id"),
    Index(None, "site", "occurred_at"),
)


pos_sale_lines = Table(
    "pos_sale_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sale_pk", BigInteger, ForeignKey("pos_sales.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product_id", BigInteger, ForeignKey("products.id")),  # None: not found
    Column("sku", String(64), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("promotion_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("tax_category", String(32), nullable=False),
    Column("tax_rate", Numeric(7, 4), nullable=False),
    Column("unit_cost_minor", BigInteger),
    Column("overridden", Boolean, nullable=False),
    Column("returned", Quantity, nullable=False),
    UniqueConstraint("sale_pk", "line_no"),
    Index(None, "product_id"),
)


# What each sale line took from stock: the lot (and unit) of each part, and how much of it came
# back; refunds return goods into the lot they left. Migration 0010.
pos_sale_picks = Table(
    "pos_sale_picks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sale_pk", BigInteger, ForeignKey("pos_sales.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("lot", String(64), nullable=False),
    Column("serial", String(64)),
    Column("epc", String(128)),
    Column("qty", Quantity, nullable=False),
    Column("returned", Quantity, nullable=False),
    Index(None, "sale_pk"),
)


pos_sale_taxes = Table(
    "pos_sale_taxes",
    metadata,
    Column("sale_pk", BigInteger, ForeignKey("pos_sales.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("rate", Numeric(7, 4), nullable=False),
    Column("base_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Index(None, "sale_pk"),
)


pos_tenders = Table(
    "pos_tenders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sale_pk", BigInteger, ForeignKey("pos_sales.id", ondelete="CASCADE")),
    Column("refund_pk", BigInteger, ForeignKey("pos_refunds.id", ondelete="CASCADE")),
    Column("session_id", BigInteger, ForeignKey("register_sessions.id")),
    Column("kind", String(8), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # a refund's is negative
    Column("reference", String(64)),
    Index(None, "sale_pk"),
    Index(None, "session_id"),
)


pos_refunds = Table(
    "pos_refunds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("refund_id", String(64), nullable=False, unique=True),
    Column("fingerprint", String(64), nullable=False),
    Column("sale_pk", BigInteger, ForeignKey("pos_sales.id")),  # None: without a receipt
    Column("register_id", BigInteger, ForeignKey("registers.id"), nullable=False),
    Column("session_id", BigInteger, ForeignKey("register_sessions.id")),
    Column("receipt_no", BigInteger, nullable=False),
    Column("cashier", String(128), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("reason", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("register_id", "receipt_no"),
    Index(None, "sale_pk"),
)


pos_refund_lines = Table(
    "pos_refund_lines",
    metadata,
    Column("refund_pk", BigInteger, ForeignKey("pos_refunds.id", ondelete="CASCADE")),
    Column("line_no", Integer, nullable=False),  # of the sale (0 without a receipt)
    Column("product_id", BigInteger, ForeignKey("products.id"), nullable=False),
    Column("qty", Quantity, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("tax_rate", Numeric(7, 4), nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("disposition", String(12), nullable=False),  # restock, write_off
    Index(None, "refund_pk"),
)
