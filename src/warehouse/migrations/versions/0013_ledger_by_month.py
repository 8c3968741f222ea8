"""The ledger by month on PostgreSQL: ``movements`` becomes a table partitioned by the month a
movement was recorded. The existing table, untouched and not copied, becomes the partition
``movements_history`` (everything recorded up to the end of this month), and the next months'
partitions are made ahead (the ingest worker's chore keeps making them). ``ledger_archive``
keeps what a detached month added to each stock key (stock/adapters/partitions.py).

Attaching the old table reads it once to check its range, and its new primary key
(id, recorded_at) is built: on a ledger of millions of rows, a minute or so with the table
locked. SQLite keeps one table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from warehouse.core.types import Quantity, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_movements_product_id_id": "(product_id, id)",
    "ix_movements_from_location_id_id": "(from_location_id, id)",
    "ix_movements_to_location_id_id": "(to_location_id, id)",
    "ix_movements_occurred_at": "(occurred_at)",
    "ix_movements_order_ref": "(order_ref, id) WHERE order_ref IS NOT NULL",
}
FOREIGN_KEYS = {
    "fk_movements_product_id_products": "(product_id) REFERENCES products (id)",
    "fk_movements_from_location_id_locations": "(from_location_id) REFERENCES locations (id)",
    "fk_movements_to_location_id_locations": "(to_location_id) REFERENCES locations (id)",
}


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
    if op.get_bind().dialect.name != "postgresql":
        return
    from warehouse.stock.adapters.partitions import ensure_ahead

    now = datetime.now(UTC)
    boundary = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    run = op.execute
    run("ALTER TABLE movements RENAME TO movements_history")
    # its primary key becomes the partitioned table's (id, recorded_at), built as it attaches
    run("ALTER TABLE movements_history DROP CONSTRAINT pk_movements")
    for name in INDEXES:
        run(f"ALTER INDEX {name} RENAME TO {name.replace('movements', 'movements_history')}")
    run(
        "CREATE TABLE movements (LIKE movements_history INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (recorded_at)"
    )
    _keys_and_indexes("movements", "(id, recorded_at)")
    run(
        "ALTER TABLE movements ATTACH PARTITION movements_history "
        f"FOR VALUES FROM (MINVALUE) TO ('{boundary.isoformat()}')"
    )
    run("ALTER SEQUENCE movements_id_seq OWNED BY movements.id")
    ensure_ahead(op.get_bind(), now.date())


def _keys_and_indexes(table: str, primary_key: str) -> None:
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_movements PRIMARY KEY {primary_key}")
    for name, columns in FOREIGN_KEYS.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY {columns}")
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} {columns}")


def downgrade() -> None:
    """One table again, every attached month copied into it (detached months stay apart)."""
    if op.get_bind().dialect.name == "postgresql":
        run = op.execute
        run("CREATE TABLE movements_flat (LIKE movements INCLUDING DEFAULTS)")
        run("INSERT INTO movements_flat SELECT * FROM movements")
        run("ALTER SEQUENCE movements_id_seq OWNED BY NONE")
        run("DROP TABLE movements CASCADE")
        run("ALTER TABLE movements_flat RENAME TO movements")
        _keys_and_indexes("movements", "(id)")
        run("ALTER SEQUENCE movements_id_seq OWNED BY movements.id")
    op.drop_table("ledger_archive")
