"""Locations carry their GS1 keys: a GLN (414) and an extension (254) for the locations that
share one GLN, as in an SGLN. The pair is unique; locations without a GLN have none.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch:
        batch.add_column(sa.Column("gln", sa.String(length=13), nullable=True))
        batch.add_column(
            sa.Column("gln_extension", sa.String(length=20), server_default="", nullable=False)
        )
        batch.create_index("uq_locations_gln", ["gln", "gln_extension"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("locations") as batch:
        batch.drop_index("uq_locations_gln")
        batch.drop_column("gln_extension")
        batch.drop_column("gln")
