"""The lots the ledger has seen (first expiry, first arrival), and what each sale line took
from which lot.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import BigId, Quantity, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lots",
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_lots_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "lot", name=op.f("pk_lots")),
    )
    # what the ledger knows so far: each lot's first expiry and first movement
    op.execute(
        "INSERT INTO lots (product_id, lot, expiry, first_seen_at) "
        "SELECT product_id, lot, MIN(expiry), MIN(occurred_at) FROM movements "
        "WHERE lot <> '' GROUP BY product_id, lot"
    )
    op.create_table(
        "pos_sale_picks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("sale_pk", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("epc", sa.String(length=128), nullable=True),
        sa.Column("qty", Quantity(), nullable=False),
        sa.Column("returned", Quantity(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_pk"],
            ["pos_sales.id"],
            name=op.f("fk_pos_sale_picks_sale_pk_pos_sales"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sale_picks")),
    )
    with op.batch_alter_table("pos_sale_picks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_sale_picks_sale_pk"), ["sale_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pos_sale_picks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_sale_picks_sale_pk"))
    op.drop_table("pos_sale_picks")
    op.drop_table("lots")
