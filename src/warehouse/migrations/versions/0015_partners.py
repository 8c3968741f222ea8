"""Partners: suppliers and customers as records, what each supplier sells (lead time, minimum
order quantity, order multiple, last cost), and orders that point at their partner. Orders
recorded before keep their free-text supplier or customer and no partner.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import BigId, Quantity, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("supplier", sa.Boolean(), nullable=False),
        sa.Column("customer", sa.Boolean(), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("code", name=op.f("uq_partners_code")),
        sa.UniqueConstraint("gln", name=op.f("uq_partners_gln")),
    )
    op.create_table(
        "supplier_items",
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("min_order_qty", Quantity(), nullable=True),
        sa.Column("order_multiple", Quantity(), nullable=True),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_supplier_items_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_supplier_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("partner_id", "product_id", name=op.f("pk_supplier_items")),
    )
    op.create_index(op.f("ix_supplier_items_product_id"), "supplier_items", ["product_id"])
    for table in ("purchase_orders", "sales_orders"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("partner_id", sa.BigInteger(), nullable=True))
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_partner_id_partners"), "partners", ["partner_id"], ["id"]
            )


def downgrade() -> None:
    for table in ("sales_orders", "purchase_orders"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{table}_partner_id_partners"), type_="foreignkey")
            batch_op.drop_column("partner_id")
    op.drop_table("supplier_items")
    op.drop_table("partners")
