"""Purchase and sales orders, allocations (pick tasks), packages and their SSCC series, returns,
count sessions, transfers, the exceptions queue.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import BigId, Quantity, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "floor_exceptions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("station", sa.String(length=64), nullable=True),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("qty", Quantity, nullable=True),
        sa.Column("code", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("suggestions", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_exceptions")),
    )
    with op.batch_alter_table("floor_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_floor_exceptions_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_floor_exceptions_kind_status_sku"),
            ["kind", "status", "sku"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_floor_exceptions_site_status_id"), ["site", "status", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_floor_exceptions_status_id"), ["status", "id"], unique=False
        )

    op.create_table(
        "purchase_orders",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("ref", name=op.f("uq_purchase_orders_ref")),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_site_status"), ["site", "status"], unique=False
        )

    op.create_table(
        "sales_orders",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=False),
        sa.Column("requested_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shortage", sa.String(length=12), nullable=False),
        sa.Column("reserve_minutes", sa.Integer(), nullable=True),
        sa.Column("reserved_until", UTCDateTime, nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_orders")),
        sa.UniqueConstraint("ref", name=op.f("uq_sales_orders_ref")),
    )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_orders_site_status"), ["site", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sales_orders_status_reserved_until"),
            ["status", "reserved_until"],
            unique=False,
        )

    op.create_table(
        "sscc_series",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("company_prefix", sa.String(length=12), nullable=False),
        sa.Column("next_ref", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site", "company_prefix", name=op.f("pk_sscc_series")),
    )
    op.create_table(
        "count_sessions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("snapshot_movement_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("refreshed_at", UTCDateTime, nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_sessions_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_sessions")),
        sa.UniqueConstraint("ref", name=op.f("uq_count_sessions_ref")),
    )
    with op.batch_alter_table("count_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_count_sessions_site_status"), ["site", "status"], unique=False
        )

    op.create_table(
        "packages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("purchase_order_id", sa.BigInteger(), nullable=True),
        sa.Column("sales_order_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_packages_purchase_order_id_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_packages_sales_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("sscc", name=op.f("uq_packages_sscc")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_packages_purchase_order_id"), ["purchase_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_packages_sales_order_id"), ["sales_order_id"], unique=False
        )

    op.create_table(
        "purchase_order_lines",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("received", Quantity, nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_order_id_purchase_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_purchase_order_lines_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint(
            "order_id", "line_no", name=op.f("uq_purchase_order_lines_order_id_line_no")
        ),
    )
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_order_lines_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "returns",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("sales_order_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_returns_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_returns_sales_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("ref", name=op.f("uq_returns_ref")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_returns_sales_order_id"), ["sales_order_id"], unique=False
        )

    op.create_table(
        "sales_order_lines",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("reserved", Quantity, nullable=False),
        sa.Column("picked", Quantity, nullable=False),
        sa.Column("packed", Quantity, nullable=False),
        sa.Column("shipped", Quantity, nullable=False),
        sa.Column("backordered", Quantity, nullable=False),
        sa.Column("returned", Quantity, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_sales_order_lines_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_sales_order_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_lines")),
        sa.UniqueConstraint(
            "order_id", "line_no", name=op.f("uq_sales_order_lines_order_id_line_no")
        ),
    )
    op.create_table(
        "transfers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("from_site", sa.String(length=64), nullable=False),
        sa.Column("to_site", sa.String(length=64), nullable=False),
        sa.Column("from_location_id", sa.BigInteger(), nullable=False),
        sa.Column("to_location_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["locations.id"],
            name=op.f("fk_transfers_from_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"], ["locations.id"], name=op.f("fk_transfers_to_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("ref", name=op.f("uq_transfers_ref")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfers_from_site_status"), ["from_site", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_transfers_to_site_status"), ["to_site", "status"], unique=False
        )

    op.create_table(
        "allocations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("picked", Quantity, nullable=False),
        sa.Column("staged_location_id", sa.BigInteger(), nullable=True),
        sa.Column("staged", Quantity, nullable=False),
        sa.Column("packed", Quantity, nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_allocations_line_id_sales_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_allocations_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_allocations_order_id_sales_orders")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_allocations_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["staged_location_id"],
            ["locations.id"],
            name=op.f("fk_allocations_staged_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocations_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_allocations_order_id"), ["order_id"], unique=False)

    op.create_table(
        "count_lines",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("book", Quantity, nullable=False),
        sa.Column("counted", Quantity, nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_lines_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_count_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["count_sessions.id"],
            name=op.f("fk_count_lines_session_id_count_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "product_id", "location_id", "lot", name=op.f("pk_count_lines")
        ),
    )
    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("disposition", sa.String(length=12), nullable=False),
        sa.Column("to_location_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_return_lines_order_line_id_sales_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_return_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_lines_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["locations.id"],
            name=op.f("fk_return_lines_to_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("return_id", "line_no", name=op.f("pk_return_lines")),
    )
    op.create_table(
        "transfer_lines",
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("shipped", Quantity, nullable=False),
        sa.Column("received", Quantity, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_transfer_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name=op.f("fk_transfer_lines_transfer_id_transfers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transfer_id", "line_no", name=op.f("pk_transfer_lines")),
    )
    op.create_table(
        "package_lines",
        sa.Column("package_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("qty", Quantity, nullable=False),
        sa.Column("allocation_id", sa.BigInteger(), nullable=True),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["allocations.id"],
            name=op.f("fk_package_lines_allocation_id_allocations"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_package_lines_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_lines_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_package_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("package_id", "line_no", name=op.f("pk_package_lines")),
    )


def downgrade() -> None:
    op.drop_table("package_lines")
    op.drop_table("transfer_lines")
    op.drop_table("return_lines")
    op.drop_table("count_lines")
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocations_order_id"))
        batch_op.drop_index(batch_op.f("ix_allocations_line_id"))

    op.drop_table("allocations")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_to_site_status"))
        batch_op.drop_index(batch_op.f("ix_transfers_from_site_status"))

    op.drop_table("transfers")
    op.drop_table("sales_order_lines")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_sales_order_id"))

    op.drop_table("returns")
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_order_lines_product_id"))

    op.drop_table("purchase_order_lines")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_sales_order_id"))
        batch_op.drop_index(batch_op.f("ix_packages_purchase_order_id"))

    op.drop_table("packages")
    with op.batch_alter_table("count_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_count_sessions_site_status"))

    op.drop_table("count_sessions")
    op.drop_table("sscc_series")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_orders_status_reserved_until"))
        batch_op.drop_index(batch_op.f("ix_sales_orders_site_status"))

    op.drop_table("sales_orders")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_orders_site_status"))

    op.drop_table("purchase_orders")
    with op.batch_alter_table("floor_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_floor_exceptions_status_id"))
        batch_op.drop_index(batch_op.f("ix_floor_exceptions_site_status_id"))
        batch_op.drop_index(batch_op.f("ix_floor_exceptions_kind_status_sku"))
        batch_op.drop_index(batch_op.f("ix_floor_exceptions_event_id"))

    op.drop_table("floor_exceptions")
