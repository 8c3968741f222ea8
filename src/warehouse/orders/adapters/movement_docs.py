"""The read side of returns and transfers: one document each, and listings newest first with
keyset pages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, or_, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, newest_page, within
from warehouse.orders.adapters import tables as orders_tables
from warehouse.stock.adapters import tables as stock_tables

P, L, SO = catalog_tables.products, stock_tables.locations, orders_tables.sales_orders
R, RL = orders_tables.returns, orders_tables.return_lines
T, TL = orders_tables.transfers, orders_tables.transfer_lines


def returns(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    order_ref: str | None,
    sku: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Returns, newest first, each with its lines; ``sku`` keeps those that brought the
    product back."""
    query = _return_head().where(*within(R.c.created_at, since, until))
    if sites is not None:
        query = query.where(R.c.site.in_(sorted(sites)))
    if order_ref:
        query = query.where(SO.c.ref == order_ref)
    if sku:
        query = query.where(
            exists().where(RL.c.return_id == R.c.id, RL.c.product_id == P.c.id, P.c.sku == sku)
        )
    rows, after = newest_page(conn, query, R.c.id, limit, cursor)
    return Page([_return(conn, r) for r in rows], after)


def return_doc(conn: Connection, ref: str) -> dict[str, Any]:
    """One return: its order, where it arrived, and each line's disposition."""
    head = conn.execute(_return_head().where(R.c.ref == ref)).first()
    if head is None:
        raise NotFound(f"return {ref!r} does not exist", field="ref")
    return _return(conn, head)


def _return_head() -> Any:
    return (
        select(R, SO.c.ref.label("order_ref"), L.c.code)
        .join(SO, SO.c.id == R.c.sales_order_id)
        .join(L, L.c.id == R.c.location_id)
    )


def _return(conn: Connection, head: Any) -> dict[str, Any]:
    to = L.alias("to")
    lines = [
        {
            "sku": x.sku,
            "qty": x.qty,
            "lot": x.lot or None,
            "disposition": x.disposition,
            "to_location": x.to_code,
        }
        for x in conn.execute(
            select(RL, P.c.sku, to.c.code.label("to_code"))
            .join(P, P.c.id == RL.c.product_id)
            .outerjoin(to, to.c.id == RL.c.to_location_id)
            .where(RL.c.return_id == head.id)
            .order_by(RL.c.line_no)
        )
    ]
    return {
        "ref": head.ref,
        "site": head.site,
        "order_ref": head.order_ref,
        "location": head.code,
        "created_at": head.created_at,
        "created_by": head.created_by,
        "lines": lines,
    }


def transfers(
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
    """Transfers from or to the given sites, newest first, each with its lines."""
    query = _transfer_head().where(*within(T.c.created_at, since, until))
    if sites is not None:
        wanted = sorted(sites)
        query = query.where(or_(T.c.from_site.in_(wanted), T.c.to_site.in_(wanted)))
    if status:
        query = query.where(T.c.status == status)
    if sku:
        query = query.where(
            exists().where(TL.c.transfer_id == T.c.id, TL.c.product_id == P.c.id, P.c.sku == sku)
        )
    rows, after = newest_page(conn, query, T.c.id, limit, cursor)
    return Page([_transfer(conn, r) for r in rows], after)


def transfer_doc(conn: Connection, ref: str) -> dict[str, Any]:
    """One transfer: where from and to, its status, and each line shipped and received."""
    head = conn.execute(_transfer_head().where(T.c.ref == ref)).first()
    if head is None:
        raise NotFound(f"transfer {ref!r} does not exist", field="ref")
    return _transfer(conn, head)


def _transfer_head() -> Any:
    src, dst = L.alias("src"), L.alias("dst")
    return (
        select(T, src.c.code.label("from_code"), dst.c.code.label("to_code"))
        .join(src, src.c.id == T.c.from_location_id)
        .join(dst, dst.c.id == T.c.to_location_id)
    )


def _transfer(conn: Connection, head: Any) -> dict[str, Any]:
    lines = [
        {
            "line": x.line_no,
            "sku": x.sku,
            "lot": x.lot or None,
            "qty": x.qty,
            "shipped": x.shipped,
            "received": x.received,
        }
        for x in conn.execute(
            select(TL, P.c.sku)
            .join(P, P.c.id == TL.c.product_id)
            .where(TL.c.transfer_id == head.id)
            .order_by(TL.c.line_no)
        )
    ]
    return {
        "ref": head.ref,
        "from_site": head.from_site,
        "to_site": head.to_site,
        "from_location": head.from_code,
        "to_location": head.to_code,
        "status": head.status,
        "created_by": head.created_by,
        "created_at": head.created_at,
        "updated_at": head.updated_at,
        "lines": lines,
    }
