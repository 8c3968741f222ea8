"""Cashier sessions an edge register opens under its own number, and drawer events (cash paid
in or out, no-sale openings).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import BigId, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("register_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), server_default="api", nullable=False)
        )
        batch_op.add_column(sa.Column("session_no", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_register_sessions_register_id_session_no"),
            ["register_id", "session_no"],
        )
    op.create_table(
        "pos_drawer_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("cashier", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["register_sessions.id"],
            name=op.f("fk_pos_drawer_events_session_id_register_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_drawer_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_pos_drawer_events_event_id")),
    )
    with op.batch_alter_table("pos_drawer_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_drawer_events_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pos_drawer_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_drawer_events_session_id"))
    op.drop_table("pos_drawer_events")
    with op.batch_alter_table("register_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_register_sessions_register_id_session_no"), type_="unique"
        )
        batch_op.drop_column("session_no")
        batch_op.drop_column("source")
