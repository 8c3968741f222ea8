"""The point of sale's listings: registers by code, cashier sessions and sales newest first,
each a keyset page."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select

from warehouse.core.paging import Page, ascending_page, newest_page, within
from warehouse.pos.adapters import tables as pos_tables

R, RS = pos_tables.registers, pos_tables.register_sessions
S, SL = pos_tables.pos_sales, pos_tables.pos_sale_lines


def registers(
    conn: Connection, *, sites: Collection[str] | None, limit: int, cursor: str | None
) -> Page:
    """Registers by code, each with its next receipt number and its open session, if any."""
    open_session = (
        select(func.max(RS.c.id))
        .where(RS.c.register_id == R.c.id, RS.c.status == "open")
        .correlate(R)
        .scalar_subquery()
        .label("open_session")
    )
    query = select(R.c.code, R.c.site, R.c.next_receipt, R.c.created_at, open_session)
    if sites is not None:
        query = query.where(R.c.site.in_(sorted(sites)))
    rows, after = ascending_page(conn, query, R.c.code, limit, cursor)
    return Page(
        [
            {
                "code": r.code,
                "site": r.site,
                "next_receipt_no": r.next_receipt,
                "open_session_id": r.open_session,
                "created_at": r.created_at,
            }
            for r in rows
        ],
        after,
    )


def sessions(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    register: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Cashier sessions, newest first; ``since``/``until`` bound when they opened."""
    query = (
        select(RS, R.c.code.label("register"), R.c.site)
        .join(R, R.c.id == RS.c.register_id)
        .where(*within(RS.c.opened_at, since, until))
    )
    if sites is not None:
        query = query.where(R.c.site.in_(sorted(sites)))
    if register:
        query = query.where(R.c.code == register)
    if status:
        query = query.where(RS.c.status == status)
    rows, after = newest_page(conn, query, RS.c.id, limit, cursor)
    return Page(
        [
            {
                "session_id": r.id,
                "register": r.register,
                "site": r.site,
                "cashier": r.cashier,
                "status": r.status,
                "source": r.source,
                "session_no": r.session_no,
                "float_minor": r.float_minor,
                "counted_minor": r.counted_minor,
                "opened_at": r.opened_at,
                "closed_at": r.closed_at,
            }
            for r in rows
        ],
        after,
    )


def sales(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    register: str | None,
    session_id: int | None,
    source: str | None,
    sku: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Sales, newest recorded first, without their lines (a receipt: GET /pos/sales/{id});
    ``since``/``until`` bound when they were made, ``sku`` keeps those that sold it."""
    lines = (
        select(func.count())
        .where(SL.c.sale_pk == S.c.id)
        .correlate(S)
        .scalar_subquery()
        .label("lines")
    )
    query = (
        select(S, R.c.code.label("register"), lines)
        .join(R, R.c.id == S.c.register_id)
        .where(*within(S.c.occurred_at, since, until))
    )
    if sites is not None:
        query = query.where(S.c.site.in_(sorted(sites)))
    if register:
        query = query.where(R.c.code == register)
    if session_id is not None:
        query = query.where(S.c.session_id == session_id)
    if source:
        query = query.where(S.c.source == source)
    if sku:
        query = query.where(exists().where(SL.c.sale_pk == S.c.id, SL.c.sku == sku))
    rows, after = newest_page(conn, query, S.c.id, limit, cursor)
    return Page([_sale(r) for r in rows], after)


def _sale(r: Any) -> dict[str, Any]:
    return {
        "sale_id": r.sale_id,
        "receipt_no": r.receipt_no,
        "register": r.register,
        "site": r.site,
        "session_id": r.session_id,
        "source": r.source,
        "cashier": r.cashier,
        "occurred_at": r.occurred_at,
        "recorded_at": r.recorded_at,
        "currency": r.currency,
        "lines": r.lines,
        "subtotal_minor": r.subtotal_minor,
        "discount_minor": r.discount_minor,
        "tax_minor": r.tax_minor,
        "total_minor": r.total_minor,
    }


def sales_count(conn: Connection, site: str) -> dict[str, int]:
    """How many sales a site made (and how many at edge registers), and its closed sessions."""
    made = conn.execute(
        select(func.count(), func.count().filter(S.c.source == "edge")).where(S.c.site == site)
    ).one()
    closed = conn.execute(
        select(func.count())
        .select_from(RS)
        .join(R, R.c.id == RS.c.register_id)
        .where(R.c.site == site, RS.c.status == "closed")
    ).scalar_one()
    return {"sales": int(made[0]), "edge": int(made[1]), "closed": int(closed)}
