"""The projection carries what it is listed by: SKU, location code and path.

Stock pages are ordered by SKU, location code and lot, and filtered by a location's subtree;
those live in the products and locations tables, so no index could serve a page and a deep
cursor walked the whole join. SKUs, location codes and paths never change, so the projection
keeps a copy, indexed for the order (only rows with stock: the default listing) and for
subtrees. The path is compared bytewise (``COLLATE "C"`` on PostgreSQL; SQLite's default), so a
subtree is a range, ``path >= '/WH1/' AND path < '/WH10'``, which the index serves even in the
generic plan of a prepared statement (a ``LIKE`` on a parameter would not).

The ledger gains an index for an order's movements, newest first (only rows with an order
reference, so the scans' inserts do not pay for it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

HAS_STOCK = "on_hand <> 0 OR reserved <> 0"
PATH = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("location_code", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("location_path", PATH, nullable=True))
    op.execute(
        "UPDATE stock SET "
        "sku = (SELECT sku FROM products WHERE products.id = stock.product_id), "
        "location_code = (SELECT code FROM locations WHERE locations.id = stock.location_id), "
        "location_path = (SELECT path FROM locations WHERE locations.id = stock.location_id)"
    )
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.alter_column("sku", nullable=False)
        batch_op.alter_column("location_code", nullable=False)
        batch_op.alter_column("location_path", nullable=False)
    for name, columns in (
        ("ix_stock_listing", ["sku", "location_code", "lot"]),
        ("ix_stock_subtree", ["location_path", "sku", "location_code", "lot"]),
    ):
        op.create_index(
            name,
            "stock",
            columns,
            postgresql_where=sa.text(HAS_STOCK),
            sqlite_where=sa.text(HAS_STOCK),
        )

    op.create_index(
        "ix_movements_order_ref",
        "movements",
        ["order_ref", "id"],
        postgresql_where=sa.text("order_ref IS NOT NULL"),
        sqlite_where=sa.text("order_ref IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_movements_order_ref", "movements")
    op.drop_index("ix_stock_subtree", "stock")
    op.drop_index("ix_stock_listing", "stock")
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.drop_column("location_path")
        batch_op.drop_column("location_code")
        batch_op.drop_column("sku")
