"""Devices keep a bcrypt hash of their password too, for a NATS cluster's user list
(nats-server reads bcrypt, not Mosquitto's PBKDF2). Devices registered before have none: they
are registered again (a new password) to reach a NATS cluster.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nats_password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("nats_password_hash")
