"""Sequence gaps: resync requests and unrecoverable ranges.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seq_gaps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resync_requested_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("resync_count", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("unrecoverable_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("seq_gaps", schema=None) as batch_op:
        batch_op.drop_column("unrecoverable_at")
        batch_op.drop_column("resync_count")
        batch_op.drop_column("resync_requested_at")
