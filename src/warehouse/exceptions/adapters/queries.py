"""The exceptions queue's read side: newest first, filtered and keyset-paginated."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, newest_first
from warehouse.exceptions.adapters import tables as exceptions_tables

X = exceptions_tables.floor_exceptions


def exceptions(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    status: str | None,
    kind: str | None,
    order_ref: str | None,
    sku: str | None,
    limit: int,
    cursor: str | None,
    created_before: datetime | None = None,
) -> Page:
    """The exceptions queue, newest first (``created_before``: only those older)."""
    filters = []
    if created_before is not None:
        filters.append(X.c.created_at <= created_before)
    if status:
        filters.append(X.c.status == status)
    if kind:
        filters.append(X.c.kind == kind)
    if order_ref:
        filters.append(X.c.order_ref == order_ref)
    if sku:
        filters.append(X.c.sku == sku)
    rows, after = newest_first(conn, X, filters, sites, limit, cursor)
    return Page([exception_row(r) for r in rows], after)


def open_count(conn: Connection, sites: Collection[str] | None) -> int:
    """How many exceptions are open (at ``sites``; None: everywhere)."""
    query = select(func.count()).select_from(X).where(X.c.status == "open")
    if sites is not None:
        query = query.where(X.c.site.in_(sorted(sites)))
    return int(conn.execute(query).scalar_one())


def exception(conn: Connection, exception_id: int) -> dict[str, Any]:
    row = conn.execute(select(X).where(X.c.id == exception_id)).first()
    if row is None:
        raise NotFound(f"exception {exception_id} does not exist", field="exception_id")
    return exception_row(row)


def exception_site(conn: Connection, exception_id: int) -> str | None:
    """The site an exception concerns (404 if there is none with that id)."""
    row = conn.execute(select(X.c.site).where(X.c.id == exception_id)).first()
    if row is None:
        raise NotFound(f"exception {exception_id} does not exist", field="exception_id")
    return row.site  # type: ignore[no-any-return]


def exception_row(r: Any) -> dict[str, Any]:
    out = {
        k: r._mapping[k]
        for k in (
            "id",
            "kind",
            "status",
            "site",
            "event_id",
            "agent_id",
            "station",
            "order_ref",
            "sku",
            "location",
            "lot",
            "qty",
            "code",
            "detail",
            "created_at",
            "resolved_at",
            "resolved_by",
            "resolution",
            "note",
        )
    }
    out["suggestions"] = [s for s in r.suggestions.split(",") if s]
    return out
