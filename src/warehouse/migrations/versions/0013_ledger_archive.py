"""``ledger_archive``: what a detached month of the ledger added to each stock key. Partitioning
the ledger by month is an operator's choice on PostgreSQL (`warehouse db partition-ledger`,
stock/adapters/partitions.py), not a migration: it costs list queries (docs/scaling.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import Quantity, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_archive",
        sa.Column("partition", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("qty", Quantity(), nullable=False),
        sa.Column("movements", sa.BigInteger(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "partition", "product_id", "location_id", "lot", name=op.f("pk_ledger_archive")
        ),
    )


def downgrade() -> None:
    """One table again if the ledger was partitioned (detached months stay apart)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from warehouse.stock.adapters.partitions import partitioned, unpartition

        if partitioned(bind):
            unpartition(bind)
    op.drop_table("ledger_archive")
