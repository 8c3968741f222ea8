"""RFID sweeps: expected vs observed tags per location.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rfid_sweeps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("observed", sa.BigInteger(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("unexpected", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_rfid_sweeps_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rfid_sweeps")),
    )
    with op.batch_alter_table("rfid_sweeps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rfid_sweeps_location_id_swept_at"),
            ["location_id", "swept_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("rfid_sweeps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rfid_sweeps_location_id_swept_at"))
    op.drop_table("rfid_sweeps")
