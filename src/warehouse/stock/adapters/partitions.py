"""The ledger by month, on PostgreSQL, when the operator asks for it (`warehouse db
partition-ledger`): ``movements`` becomes a table partitioned by the month a movement was
recorded (declarative range partitioning). A movement always lands in the current month's
partition, however late its event occurred; the ingest worker's chore keeps partitions
``AHEAD`` months ahead. ``movements_history`` holds everything recorded before, whole (the old
table attached, not copied), until ``split_history`` divides it into months.

It is not the default: list queries newest first read every partition (docs/scaling.md gives the
cost), which buys nothing until old months are to be archived.

An old month can be detached for archive: its rows stay in a table of their own
(``movements_y2025m01``, for pg_dump and then DROP), and what it added to each stock key is kept in
``ledger_archive``, so the projection still adds up to the ledger (projection.ledger_balances)
and stock is not touched. Queries, paging by id and the projection are the same as on one table.
On SQLite the ledger is one table and none of this applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, column, func, insert, literal, select, table, text, union_all

from warehouse.stock.adapters import tables as stock_tables

AHEAD = 3  # months of partitions made before they are needed
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
_MONTH = re.compile(r"^movements_y(\d{4})m(\d{2})$")


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of the ledger: its table, and the months it holds."""

    name: str
    bounds: str  # as PostgreSQL states them: FOR VALUES FROM (…) TO (…)
    month: date | None  # None for movements_history


def partitioned(conn: Connection) -> bool:
    """Whether the ledger is partitioned here (PostgreSQL, after migration 0013)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = 'movements'::regclass"))
    return bool(kind.scalar_one() == "p")


def partitions(conn: Connection) -> list[Partition]:
    """The ledger's partitions, oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'movements'::regclass ORDER BY c.relname"
        )
    )
    found = [Partition(name, bounds, _month_of(name)) for name, bounds in rows]
    return sorted(found, key=lambda p: p.month or date.min)


def partition(conn: Connection, today: date) -> list[str]:
    """Make the ledger partitioned by month: the table as it is becomes ``movements_history``
    (up to the end of ``today``'s month; read once to check, and given its new primary key
    (id, recorded_at): about a minute a million rows, with the ledger locked), the next
    ``AHEAD`` months are made. Return them."""
    run = conn.exec_driver_sql
    run("LOCK TABLE stock IN EXCLUSIVE MODE")
    run("ALTER TABLE movements RENAME TO movements_history")
    # its primary key becomes the partitioned table's (id, recorded_at), built as it attaches
    run("ALTER TABLE movements_history DROP CONSTRAINT pk_movements")
    for name in INDEXES:
        run(f"ALTER INDEX {name} RENAME TO {name.replace('movements', 'movements_history')}")
    run(
        "CREATE TABLE movements (LIKE movements_history INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (recorded_at)"
    )
    _keys_and_indexes(conn, "(id, recorded_at)")
    first = _next(date(today.year, today.month, 1))
    run(
        "ALTER TABLE movements ATTACH PARTITION movements_history "
        f"FOR VALUES FROM (MINVALUE) TO ('{first.isoformat()} 00:00:00+00')"
    )
    run("ALTER SEQUENCE movements_id_seq OWNED BY movements.id")
    return ensure_ahead(conn, today)


def unpartition(conn: Connection) -> None:
    """One table again, every attached month copied into it (detached months stay apart)."""
    run = conn.exec_driver_sql
    run("LOCK TABLE stock IN EXCLUSIVE MODE")
    run("CREATE TABLE movements_flat (LIKE movements INCLUDING DEFAULTS)")
    run("INSERT INTO movements_flat SELECT * FROM movements")
    run("ALTER SEQUENCE movements_id_seq OWNED BY NONE")
    run("DROP TABLE movements CASCADE")
    run("ALTER TABLE movements_flat RENAME TO movements")
    _keys_and_indexes(conn, "(id)")
    run("ALTER SEQUENCE movements_id_seq OWNED BY movements.id")


def _keys_and_indexes(conn: Connection, primary_key: str) -> None:
    run = conn.exec_driver_sql
    run(f"ALTER TABLE movements ADD CONSTRAINT pk_movements PRIMARY KEY {primary_key}")
    for name, columns in FOREIGN_KEYS.items():
        run(f"ALTER TABLE movements ADD CONSTRAINT {name} FOREIGN KEY {columns}")
    for name, columns in INDEXES.items():
        run(f"CREATE INDEX {name} ON movements {columns}")


def not_a_partition(obj: object, name: str | None, kind: str, reflected: bool, _to: object) -> bool:
    """Alembic's ``include_object``: the ledger's partitions (and their indexes) are made by
    the migration and the chore, not described by the table definitions."""
    del reflected
    table = getattr(getattr(obj, "table", None), "name", None) if kind == "index" else name
    return not (table == "movements_history" or (table and _MONTH.match(table)))


def _month_of(name: str) -> date | None:
    match = _MONTH.match(name)
    return date(int(match[1]), int(match[2]), 1) if match else None


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def name_of(month: date) -> str:
    return f"movements_y{month.year:04d}m{month.month:02d}"


def ensure_ahead(conn: Connection, today: date, months: int = AHEAD) -> list[str]:
    """Create the monthly partitions from the first month movements_history does not cover up
    to ``months`` after ``today``'s; return the ones made."""
    upper = conn.execute(
        text(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
            "WHERE c.relname = 'movements_history'"
        )
    ).scalar_one()
    start = _history_end(upper)
    existing = {p.month for p in partitions(conn)}
    last = date(today.year, today.month, 1)
    for _ in range(months):
        last = _next(last)
    made = []
    month = start
    while month <= last:
        if month not in existing:
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {name_of(month)} PARTITION OF movements "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') "
                f"TO ('{_next(month).isoformat()} 00:00:00+00')"
            )
            made.append(name_of(month))
        month = _next(month)
    return made


def _history_end(bounds: str) -> date:
    """The first month after movements_history's range (``… TO ('2026-12-01 00:00:00+00')``)."""
    found = re.search(r"TO \('(\d{4})-(\d{2})-01", bounds)
    if found is None:
        raise ValueError(f"unexpected bounds of movements_history: {bounds}")
    return date(int(found[1]), int(found[2]), 1)


def split_history(conn: Connection, since: date, today: date) -> list[str]:
    """Move what movements_history holds from month ``since`` on into monthly partitions (a
    database migrated with its ledger whole, whose old months should become detachable).
    Rewrites those rows once, with the ledger locked; return the partitions made."""
    since = date(since.year, since.month, 1)
    conn.exec_driver_sql("LOCK TABLE stock IN EXCLUSIVE MODE")
    conn.exec_driver_sql("LOCK TABLE movements IN ACCESS EXCLUSIVE MODE")
    conn.exec_driver_sql("ALTER TABLE movements DETACH PARTITION movements_history")
    conn.exec_driver_sql("ALTER TABLE movements_history RENAME TO movements_unsplit")
    conn.exec_driver_sql(
        "CREATE TABLE movements_history PARTITION OF movements "
        f"FOR VALUES FROM (MINVALUE) TO ('{since.isoformat()} 00:00:00+00')"
    )
    made = ensure_ahead(conn, today)
    conn.exec_driver_sql("INSERT INTO movements SELECT * FROM movements_unsplit")
    conn.exec_driver_sql("DROP TABLE movements_unsplit")
    return made


def detach(conn: Connection, month: date, today: date) -> int:
    """Detach ``month``'s partition for archive, keeping what it added to each stock key in
    ledger_archive; return its movements. Only a month before the current one."""
    if month >= date(today.year, today.month, 1):
        raise ValueError(f"{month:%Y-%m} is not over yet: only past months are detached")
    name = name_of(month)
    if month not in {p.month for p in partitions(conn)}:
        raise LookupError(f"the ledger has no partition {name}")
    conn.exec_driver_sql("LOCK TABLE stock IN EXCLUSIVE MODE")  # no posting meanwhile
    # the partition as a plain table: quantities stay in the ledger's stored form (millionths)
    part = table(name, *(column(c) for c in ("product_id", "from_location_id",
                                            "to_location_id", "lot", "qty")))  # fmt: skip
    legs = union_all(
        select(part.c.product_id, part.c.from_location_id.label("location_id"), part.c.lot,
               (-part.c.qty).label("qty")),
        select(part.c.product_id, part.c.to_location_id.label("location_id"), part.c.lot,
               part.c.qty.label("qty")),
    ).subquery()  # fmt: skip
    count = conn.execute(select(func.count()).select_from(part)).scalar_one()
    archive = stock_tables.ledger_archive
    conn.execute(
        insert(archive).from_select(
            ["partition", "product_id", "location_id", "lot", "qty", "movements", "archived_at"],
            select(
                literal(name), legs.c.product_id, legs.c.location_id, legs.c.lot,
                func.sum(legs.c.qty), literal(count), literal(datetime.now(UTC)),
            ).group_by(legs.c.product_id, legs.c.location_id, legs.c.lot),
        )
    )  # fmt: skip
    conn.exec_driver_sql(f"ALTER TABLE movements DETACH PARTITION {name}")
    return int(count)
