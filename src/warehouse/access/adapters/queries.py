"""The audit log's read side, newest first."""

from __future__ import annotations

import json

from sqlalchemy import (
    Connection,
    select,
)

from warehouse.access.adapters import tables
from warehouse.core.paging import Page, decode_cursor, encode_cursor


def audit(
    conn: Connection,
    *,
    sites: frozenset[str] | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Audit entries, newest first; with ``sites``, only those of these sites."""
    t = tables.audit_log
    query = select(t).order_by(t.c.id.desc()).limit(limit + 1)
    if sites is not None:
        query = query.where(t.c.site.in_(sorted(sites)))
    for column, value in ((t.c.actor, actor), (t.c.action, action), (t.c.target, target)):
        if value:
            query = query.where(column == value)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(t.c.id < before)
    rows = conn.execute(query).all()
    items = [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "site": r.site,
            "before": json.loads(r.before) if r.before else None,
            "after": json.loads(r.after) if r.after else None,
        }
        for r in rows[:limit]
    ]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)
