"""A count session's read side: its lines, with the book quantities unless it is blind, and its
site; and the listing of counts, newest first."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, newest_page, within
from warehouse.counts.adapters import tables
from warehouse.counts.adapters.repository import SqlCounts
from warehouse.stock.adapters import tables as stock_tables

C, CL = tables.count_sessions, tables.count_lines
L, P = stock_tables.locations, catalog_tables.products


def count_doc(conn: Connection, ref: str, *, show_book: bool) -> dict[str, Any]:
    """One count: its lines with book, counted and variance (a blind count's book and
    variance only for those who may approve it), and whether it went stale."""
    counts = SqlCounts(conn)
    session = counts.session(ref, lock=False)
    if session is None:
        raise NotFound(f"count {ref!r} does not exist", field="ref")
    visible = show_book or not session.blind
    lines = [
        {
            "sku": x.sku,
            "location": x.location_code,
            "lot": x.lot or None,
            "book": x.book if visible else None,
            "counted": x.counted,
            "variance": (x.counted - x.book) if visible and x.counted is not None else None,
        }
        for x in session.lines
        if visible or x.counted is not None
    ]
    row = conn.execute(
        select(tables.count_sessions).where(tables.count_sessions.c.id == session.id)
    ).one()
    return {
        "ref": session.ref,
        "site": session.site,
        "location": session.location_code,
        "blind": session.blind,
        "status": session.status,
        "stale": session.status == "open" and counts.moved_since(session.id),
        "created_at": row.created_at,
        "refreshed_at": row.refreshed_at,
        "approved_by": row.approved_by,
        "lines": lines,
    }


def count_site(conn: Connection, ref: str) -> str:
    """The site of a count session by its ref; 404 naming it."""
    t = tables.count_sessions
    site = conn.execute(select(t.c.site).where(t.c.ref == ref)).scalar()
    if site is None:
        raise NotFound(f"count {ref!r} does not exist", field="ref")
    return str(site)


def counts(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    status: str | None,
    sku: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Counts, newest first, each with how many of its lines are counted (no lines: a list
    does not show a blind count's book); ``since``/``until`` bound when it started, ``sku``
    keeps those that take in the product."""
    lines = (
        select(func.count())
        .where(CL.c.session_id == C.c.id)
        .correlate(C)
        .scalar_subquery()
        .label("lines")
    )
    counted = (
        select(func.count())
        .where(CL.c.session_id == C.c.id, CL.c.counted.is_not(None))
        .correlate(C)
        .scalar_subquery()
        .label("counted")
    )
    query = (
        select(C, L.c.code.label("location"), lines, counted)
        .join(L, L.c.id == C.c.location_id)
        .where(*within(C.c.created_at, since, until))
    )
    if sites is not None:
        query = query.where(C.c.site.in_(sorted(sites)))
    if status:
        query = query.where(C.c.status == status)
    if sku:
        query = query.where(
            exists().where(CL.c.session_id == C.c.id, CL.c.product_id == P.c.id, P.c.sku == sku)
        )
    rows, after = newest_page(conn, query, C.c.id, limit, cursor)
    return Page([{k: r._mapping[k] for k in _SUMMARY} for r in rows], after)


#: What a count shows in a listing.
_SUMMARY = (
    "ref",
    "site",
    "location",
    "blind",
    "status",
    "created_by",
    "created_at",
    "refreshed_at",
    "approved_by",
    "approved_at",
    "lines",
    "counted",
)
