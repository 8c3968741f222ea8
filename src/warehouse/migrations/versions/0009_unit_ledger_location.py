"""Serialized units remember where the ledger last put them, apart from where RFID saw them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("serial_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ledger_location_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_serial_units_ledger_location_id_locations"),
            "locations",
            ["ledger_location_id"],
            ["id"],
        )
    # what is known so far was placed by movements and RFID alike: take it as the ledger's
    op.execute("UPDATE serial_units SET ledger_location_id = location_id")


def downgrade() -> None:
    with op.batch_alter_table("serial_units", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_serial_units_ledger_location_id_locations"), type_="foreignkey"
        )
        batch_op.drop_column("ledger_location_id")
