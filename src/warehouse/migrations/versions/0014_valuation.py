"""Valuation and packs: products get a category, a costing method and a standard cost, and
packaging levels (a pack GTIN with its quantity in base units, among the product's codes);
purchase orders a currency and their lines a unit cost; cost layers per product and site, and
the valuation entry of every movement that crosses a site's edge. Movements recorded before
have no entries: `warehouse valuation rebuild` replays the ledger to make them
(docs/valuation.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import BigId, Quantity, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("costing", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("standard_cost_minor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("product_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pack_level", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("pack_qty", Quantity(), nullable=True))
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True))
    op.create_table(
        "cost_positions",
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("layers", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cost_positions_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "site", name=op.f("pk_cost_positions")),
    )
    op.create_table(
        "valuation_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("movement_id", sa.BigInteger(), nullable=True),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("qty", Quantity(), nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=False),
        sa.Column("variance_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_entries")),
    )
    for columns in (
        ["site", "occurred_at"],
        ["ref", "product_id"],
    ):
        name = op.f("ix_valuation_entries_" + "_".join(columns))
        op.create_index(name, "valuation_entries", columns)


def downgrade() -> None:
    op.drop_table("valuation_entries")
    op.drop_table("cost_positions")
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.drop_column("unit_cost_minor")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_column("currency")
    op.execute("DELETE FROM product_codes WHERE kind = 'pack'")
    with op.batch_alter_table("product_codes", schema=None) as batch_op:
        batch_op.drop_column("pack_qty")
        batch_op.drop_column("pack_level")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("standard_cost_minor")
        batch_op.drop_column("costing")
        batch_op.drop_column("category")
