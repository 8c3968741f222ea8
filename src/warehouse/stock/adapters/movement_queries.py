"""The ledger's read side: movements newest first, filtered and keyset-paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    Select,
    bindparam,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.sql.elements import ColumnElement

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.catalog.adapters.queries import _product_id
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, decode_cursor, encode_cursor
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.location_queries import _location_path

P, L, M = catalog_tables.products, stock_tables.locations, stock_tables.movements
_SRC, _DST = L.alias("src"), L.alias("dst")


def movements(
    conn: Connection,
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    agent_id: str | None = None,
    order_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Ledger rows, newest first (filters left out match everything)."""
    product_id = _product_id(conn, sku, None)
    before = decode_cursor(cursor, int)[0] if cursor else None

    def matching(t: Any) -> list[ColumnElement[bool]]:
        wanted = [
            (product_id, t.c.product_id),
            (kind, t.c.kind),
            (agent_id, t.c.agent_id),
            (order_ref, t.c.order_ref),
        ]
        out = [column == value for value, column in wanted if value is not None]
        out += [t.c.occurred_at >= since] if since else []
        out += [t.c.occurred_at < until] if until else []
        out += [t.c.id < before] if before is not None else []
        return out

    query = _movement_select()
    if location:
        path = _location_path(conn, location)
        subtree = select(L.c.id).where(L.c.path.startswith(path, autoescape=True))
        ids = list(conn.execute(subtree).scalars())
        if conn.dialect.name == "postgresql" and len(ids) * (limit + 1) <= _WALK_BUDGET:
            query = query.where(M.c.id.in_(_newest_in(ids, matching, limit + 1)))
        else:
            query = query.where(
                or_(M.c.from_location_id.in_(subtree), M.c.to_location_id.in_(subtree)),
                *matching(M),
            )
    else:
        query = query.where(*matching(M))
    rows = conn.execute(query.order_by(M.c.id.desc()).limit(limit + 1)).all()
    items = [movement_row(r._mapping) for r in rows[:limit]]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


#: Index entries a subtree's movements page may read location by location (see _newest_in);
#: past it (a site of hundreds of bins, a page of a thousand) the ledger is walked newest first,
#: which a subtree that large, where most movements happen, fills a page from quickly.
_WALK_BUDGET = 5_000


_WALKER = M.alias("walk")


def _newest_in(ids: list[int], matching: Any, n: int) -> Select[Any]:
    """The ids of the newest ``n`` matching movements out of or into any of the locations
    ``ids``: for each location and side the newest ``n`` by its (location, id) index, then the
    newest ``n`` of those. The work is bounded by the locations and the page, never by the
    ledger: a quiet bin answers as fast as a busy one, where a walk of the ledger newest first,
    filtering, reads all of it to find a bin that never moved."""
    # one array parameter, not a VALUES list: the statement is then the same for every
    # subtree, so SQLAlchemy compiles it once (a VALUES list was compiled on every request)
    subtree = (
        func.unnest(bindparam("ids", ids, type_=ARRAY(Integer)))
        .table_valued("id")
        .render_derived(name="subtree")
    )
    walker = _WALKER
    sides = []
    for side in (walker.c.from_location_id, walker.c.to_location_id):
        walk = (
            select(walker.c.id)
            .where(side == subtree.c.id, *matching(walker))
            .order_by(walker.c.id.desc())
            .limit(n)
            .lateral()
        )
        sides.append(select(walk.c.id).select_from(subtree).join(walk, true()))
    hits = union(*sides).subquery()
    return select(hits.c.id).order_by(hits.c.id.desc()).limit(n)


_MOVEMENT_SELECT = (
    select(M, P.c.sku, _SRC.c.code.label("from_location"), _DST.c.code.label("to_location"))
    .join(P, P.c.id == M.c.product_id)
    .join(_SRC, _SRC.c.id == M.c.from_location_id)
    .join(_DST, _DST.c.id == M.c.to_location_id)
)


def _movement_select() -> Select[Any]:
    return _MOVEMENT_SELECT


def movement(conn: Connection, movement_id: int) -> dict[str, Any]:
    """One ledger row, or NotFound."""
    row = conn.execute(_movement_select().where(M.c.id == movement_id)).first()
    if row is None:
        raise NotFound(f"movement {movement_id} does not exist", field="id")
    return movement_row(row._mapping)


def movement_row(row: Any) -> dict[str, Any]:
    """The API shape of a ledger row."""
    keys = (
        "id",
        "kind",
        "sku",
        "qty",
        "from_location",
        "to_location",
        "serial",
        "epc",
        "expiry",
        "code",
        "order_ref",
        "occurred_at",
        "recorded_at",
        "origin",
        "event_id",
        "agent_id",
        "device",
        "station",
        "actor",
    )
    out = {k: row[k] for k in keys}
    out["lot"] = row["lot"] or None
    out["flags"] = [f for f in row["flags"].split(",") if f]
    return out
