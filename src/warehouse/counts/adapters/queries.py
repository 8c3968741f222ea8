"""A count session's read side: its lines, with the book quantities unless it is blind, and its
site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from warehouse.core.errors import NotFound
from warehouse.counts.adapters import tables
from warehouse.counts.adapters.repository import SqlCounts


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
