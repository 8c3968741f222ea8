"""The stock change feed: every change of a projection row, written in the transaction that
makes it, and given a position in commit order afterwards.

Why a sequencer: a row's ``id`` is taken when it is inserted, and two transactions can commit in
the other order, so a reader that followed ids could pass over a change committed late under a
lower id. Each row carries its transaction's id (PostgreSQL's ``xid8``); :func:`sequence` numbers
only rows of transactions older than the oldest one still running (``pg_snapshot_xmin``), all of
which have ended, in id order, under an advisory lock so one process numbers at a time. Every row
gets exactly one position, and positions only rise in the order readers can see them. (SQLite
has one writer at a time: ids are already in commit order.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)

from warehouse.core import sql
from warehouse.core.sql import chunks
from warehouse.stock.adapters import tables
from warehouse.stock.domain.model import StockKey

C, S = tables.stock_changes, tables.stock
#: PostgreSQL advisory lock key of the sequencer ("stck").
SEQUENCER_LOCK = 0x7374636B
#: At most this many changes are numbered per pass.
BATCH = 5000

_PG_RECORD = text("""
    INSERT INTO stock_changes (tx, product_id, location_id, lot, sku, location_code,
                               location_path, on_hand, reserved, version, changed_at)
    SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint), s.product_id, s.location_id, s.lot,
           s.sku, s.location_code, s.location_path, s.on_hand, s.reserved, s.version, s.updated_at
    FROM stock AS s
    JOIN jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(product_id bigint, location_id bigint,
                                                      lot varchar)
      ON s.product_id = k.product_id AND s.location_id = k.location_id AND s.lot = k.lot
    ORDER BY s.product_id, s.location_id, s.lot
""")

_PG_SEQUENCE = text("""
    UPDATE stock_changes AS c SET position = b.top + t.rn
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn
          FROM stock_changes
          WHERE position IS NULL
            AND tx < CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint)
          ORDER BY id LIMIT :batch) AS t,
         (SELECT coalesce(max(position), 0) AS top FROM stock_changes) AS b
    WHERE c.id = t.id
""")


@dataclass(frozen=True, slots=True)
class Change:
    position: int
    sku: str
    location: str
    location_path: str
    lot: str
    on_hand: Decimal
    reserved: Decimal
    version: int
    changed_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "sku": self.sku,
            "location": self.location,
            "lot": self.lot or None,
            "on_hand": str(self.on_hand),
            "reserved": str(self.reserved),
            "available": str(self.on_hand - self.reserved),
            "version": self.version,
            "changed_at": self.changed_at.isoformat(),
        }


def record(conn: Connection, keys: Iterable[StockKey]) -> None:
    """Copy the projection rows of ``keys``, as they now stand, into the feed."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PG_RECORD,
            {
                "keys": sql.as_json(
                    [{"product_id": k[0], "location_id": k[1], "lot": k[2]} for k in wanted]
                )
            },
        )
        return
    columns = ["product_id", "location_id", "lot", "sku", "location_code", "location_path"]
    columns += ["on_hand", "reserved", "version"]
    for part in chunks(wanted, 300):
        query = select(literal(0), *[S.c[c] for c in columns], S.c.updated_at).where(
            tuple_(S.c.product_id, S.c.location_id, S.c.lot).in_(part)
        )
        conn.execute(insert(C).from_select(["tx", *columns, "changed_at"], query))


def sequence(conn: Connection) -> int:
    """Number the changes that can no longer be overtaken; return how many (0 when another
    process holds the sequencer)."""
    if conn.dialect.name == "postgresql":
        if not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK}
        ).scalar():
            return 0
        return conn.execute(_PG_SEQUENCE, {"batch": BATCH}).rowcount or 0
    top = conn.execute(select(func.coalesce(func.max(C.c.position), 0))).scalar_one()
    ids = conn.execute(
        select(C.c.id).where(C.c.position.is_(None)).order_by(C.c.id).limit(BATCH)
    ).scalars()
    rows = [{"i": i, "p": top + n} for n, i in enumerate(ids, start=1)]
    if rows:
        conn.execute(
            update(C).where(C.c.id == bindparam("i")).values(position=bindparam("p")), rows
        )
    return len(rows)


def read(
    conn: Connection,
    after: int,
    limit: int = 1000,
    *,
    upto: int | None = None,
    path: str | None = None,
    sku: str | None = None,
) -> list[Change]:
    """Numbered changes after ``after`` (up to ``upto``), oldest first, optionally under a
    location path or of one SKU."""
    query = select(C).where(C.c.position > after)
    if upto is not None:
        query = query.where(C.c.position <= upto)
    if path is not None:
        query = query.where(C.c.location_path.startswith(path, autoescape=True))
    if sku is not None:
        query = query.where(C.c.sku == sku)
    return [
        Change(
            r.position,
            r.sku,
            r.location_code,
            r.location_path,
            r.lot,
            r.on_hand,
            r.reserved,
            r.version,
            r.changed_at,
        )
        for r in conn.execute(query.order_by(C.c.position).limit(limit))
    ]


def bounds(conn: Connection) -> tuple[int, int]:
    """(the first position still kept, the last one given); (0, 0) for an empty feed."""
    low, high = conn.execute(select(func.min(C.c.position), func.max(C.c.position))).one()
    return int(low or 0), int(high or 0)


def prune(conn: Connection, before: datetime) -> int:
    """Delete numbered changes older than ``before``, always keeping the last one (so the
    feed's position survives); return how many went."""
    _, high = bounds(conn)
    return (
        conn.execute(
            delete(C).where(C.c.position.is_not(None), C.c.position < high, C.c.changed_at < before)
        ).rowcount
        or 0
    )


def location_path(conn: Connection, code: str) -> str | None:
    """The path of a location (what the feed filters a subtree by)."""
    found = select(tables.locations.c.path).where(tables.locations.c.code == code)
    path = conn.execute(found).scalar()
    return None if path is None else str(path)


_VERSION_SQL = (
    "SELECT (SELECT coalesce(max(position), 0) FROM stock_changes),"
    " (SELECT count(*) FROM stock_changes WHERE position IS NULL),"
    " (SELECT coalesce(max(version), 0) FROM catalog_version)"
)
_VERSION = text(_VERSION_SQL)


def version(conn: Connection) -> str:
    """The projection's version, for ETags: the last position given and how many changes
    await one, and the catalog's version. Every committed change of a stock row adds an
    unnumbered change (the count rises), numbering moves the last position up, and pruning
    keeps the last one, so two reads of the same version saw the same stock; the catalog's
    covers what a listing resolves through products and locations (a GTIN moved to another
    product, a product renamed). Three index reads."""
    top, pending, catalog = conn.execute(_VERSION).one()
    return f"{top}.{pending}.{catalog}"


_LEDGER_VERSION = text(_VERSION_SQL + ", (SELECT coalesce(max(id), 0) FROM movements)")  # noqa: S608 - constants


def ledger_version(conn: Connection) -> str:
    """The ledger's version, for ETags: the projection's (every movement that touches a
    physical location changes a stock row in its transaction) and the newest movement's id,
    in one statement."""
    top, pending, catalog, newest = conn.execute(_LEDGER_VERSION).one()
    return f"{top}.{pending}.{catalog}.{newest}"
