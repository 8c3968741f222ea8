"""The locations' read side: the tree, one location, and the sites of locations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    select,
)

from warehouse.access.domain import site_of_path
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, ascending_page
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS

L = stock_tables.locations


def _location_path(conn: Connection, code: str, field: str = "location") -> str:
    path = conn.execute(select(L.c.path).where(L.c.code == code)).scalar()
    if path is None:
        raise NotFound(f"{field} {code!r} is not a known location", field=field)
    return str(path)


#: Aliases and statements built once (an alias sets up its column collection when made, which
#: per request was a sixth of a page's CPU).
_PARENT = L.alias("parent")


_LOCATION_SELECT = select(
    L.c.code,
    L.c.name,
    L.c.kind,
    L.c.path,
    L.c.negative_policy,
    L.c.gln,
    L.c.gln_extension,
    _PARENT.c.code.label("parent_code"),
).outerjoin(_PARENT, _PARENT.c.id == L.c.parent_id)


#: A location's path and whether it has children, by ``:code``.
_PLACE = select(
    L.c.path,
    select(_PARENT.c.id).where(_PARENT.c.parent_id == L.c.id).exists().label("children"),
).where(L.c.code == bindparam("code"))


def _location_select() -> Select[Any]:
    return _LOCATION_SELECT


def list_locations(
    conn: Connection, *, under: str | None, kind: str | None, limit: int, cursor: str | None
) -> Page:
    """Locations in tree order, optionally a subtree or one kind, a page at a time."""
    query = _location_select()
    if under:
        query = query.where(
            L.c.path.startswith(_location_path(conn, under, "under"), autoescape=True)
        )
    if kind:
        query = query.where(L.c.kind == kind)
    rows, after = ascending_page(conn, query, L.c.path, limit, cursor)
    return Page([location_row(r._mapping) for r in rows], after)


def location_row(row: Any) -> dict[str, Any]:
    """The API shape of a location row."""
    return {
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "parent_code": row["parent_code"],
        "negative_policy": row["negative_policy"],
        "path": [p for p in row["path"].split("/") if p],
        "gln": row["gln"],
        "gln_extension": row["gln_extension"] or None,
    }


def get_location(conn: Connection, code: str) -> dict[str, Any]:
    """One location, or NotFound."""
    row = conn.execute(_location_select().where(L.c.code == code)).first()
    if row is None:
        raise NotFound(f"location {code!r} is not known", field="code")
    return location_row(row._mapping)


def location_sites(conn: Connection, codes: list[str]) -> dict[str, str | None]:
    """The site of each known location code (``None`` for virtual locations, which belong to
    no site)."""
    rows = conn.execute(
        select(L.c.code, L.c.path, L.c.kind).where(L.c.code.in_(sorted(set(codes))))
    ).all()
    return {r.code: None if r.kind in VIRTUAL_KINDS else site_of_path(r.path) for r in rows}
