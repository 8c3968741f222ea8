"""Conflicting duplicates, the catalog version, virtual locations out of the projection.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_hash", sa.String(length=32), nullable=True))
    with op.batch_alter_table("rejected_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_hash", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("original_payload", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_rejected_events_event_id"), ["event_id"])
    catalog_version = op.create_table(
        "catalog_version",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.bulk_insert(catalog_version, [{"id": 1, "version": 1}])
    # virtual locations are no longer projected: their balances are summed from the ledger
    op.execute(
        "DELETE FROM stock WHERE location_id IN "
        "(SELECT id FROM locations WHERE kind IN ('supplier', 'customer', 'loss', 'transit'))"
    )


def downgrade() -> None:
    op.drop_table("catalog_version")
    with op.batch_alter_table("rejected_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_events_event_id"))
        batch_op.drop_column("original_payload")
        batch_op.drop_column("payload_hash")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("payload_hash")
    # the virtual rows come back with `warehouse db rebuild-projection` on the old version
