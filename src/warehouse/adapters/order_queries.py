"""The read side of orders, packages and the exceptions queue: listings newest first with
cursor paging, and single documents. Same conventions as queries.py (plain dicts, Page)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Table, select

from warehouse.adapters import orm
from warehouse.adapters.queries import Page, decode_cursor, encode_cursor
from warehouse.adapters.repositories.counts import SqlCounts
from warehouse.adapters.repositories.transfers import SqlTransfers
from warehouse.domain.errors import NotFound

PO, POL, SO, SOL = (
    orm.purchase_orders,
    orm.purchase_order_lines,
    orm.sales_orders,
    orm.sales_order_lines,
)
P, L, A = orm.products, orm.locations, orm.allocations
PK, PKL, X = orm.packages, orm.package_lines, orm.floor_exceptions


def _page(
    conn: Connection,
    table: Table,
    filters: list[Any],
    sites: Collection[str] | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    query = select(table).where(*filters).order_by(table.c.id.desc()).limit(limit + 1)
    if sites is not None:
        query = query.where(table.c.site.in_(sorted(sites)))
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(table.c.id < before)
    rows = conn.execute(query).all()
    return list(rows[:limit]), encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None


def order_site(conn: Connection, kind: str, ref: str) -> str:
    """The site of a purchase (``kind="purchase"``) or sales order; 404 naming it."""
    table = PO if kind == "purchase" else SO
    site = conn.execute(select(table.c.site).where(table.c.ref == ref)).scalar()
    if site is None:
        raise NotFound(f"{kind} order {ref!r} does not exist", field="ref")
    return str(site)


def purchase_orders(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    status: str | None,
    supplier: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Purchase orders, newest first, each with its lines."""
    filters = [PO.c.status == status] if status else []
    if supplier:
        filters.append(PO.c.supplier == supplier)
    rows, after = _page(conn, PO, filters, sites, limit, cursor)
    return Page([_purchase_order(conn, r) for r in rows], after)


def purchase_order(conn: Connection, ref: str) -> dict[str, Any]:
    row = conn.execute(select(PO).where(PO.c.ref == ref)).first()
    if row is None:
        raise NotFound(f"purchase order {ref!r} does not exist", field="ref")
    return _purchase_order(conn, row)


def _purchase_order(conn: Connection, row: Any) -> dict[str, Any]:
    lines = [
        {
            "line": r.line_no,
            "sku": r.sku,
            "qty": r.qty,
            "received": r.received,
            "lot": r.lot or None,
            "expiry": r.expiry,
        }
        for r in conn.execute(
            select(POL, P.c.sku)
            .join(P, P.c.id == POL.c.product_id)
            .where(POL.c.order_id == row.id)
            .order_by(POL.c.line_no)
        )
    ]
    packages = [
        {"sscc": r.sscc, "status": r.status}
        for r in conn.execute(
            select(PK.c.sscc, PK.c.status).where(PK.c.purchase_order_id == row.id).order_by(PK.c.id)
        )
    ]
    return {
        "ref": row.ref,
        "site": row.site,
        "supplier": row.supplier,
        "expected_date": row.expected_date,
        "status": row.status,
        "created_at": row.created_at,
        "closed_at": row.closed_at,
        "lines": lines,
        "packages": packages,
    }


def sales_orders(
    conn: Connection,
    *,
    sites: Collection[str] | None,
    status: str | None,
    customer: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Sales orders, newest first, with lines and pick tasks."""
    filters = [SO.c.status == status] if status else []
    if customer:
        filters.append(SO.c.customer == customer)
    rows, after = _page(conn, SO, filters, sites, limit, cursor)
    return Page([_sales_order(conn, r) for r in rows], after)


def sales_order(conn: Connection, ref: str) -> dict[str, Any]:
    row = conn.execute(select(SO).where(SO.c.ref == ref)).first()
    if row is None:
        raise NotFound(f"sales order {ref!r} does not exist", field="ref")
    return _sales_order(conn, row)


def _sales_order(conn: Connection, row: Any) -> dict[str, Any]:
    lines = [
        {
            "line": r.line_no,
            "sku": r.sku,
            "qty": r.qty,
            "reserved": r.reserved,
            "picked": r.picked,
            "packed": r.packed,
            "shipped": r.shipped,
            "backordered": r.backordered,
            "returned": r.returned,
        }
        for r in conn.execute(
            select(SOL, P.c.sku)
            .join(P, P.c.id == SOL.c.product_id)
            .where(SOL.c.order_id == row.id)
            .order_by(SOL.c.line_no)
        )
    ]
    tasks = [
        {
            "line": r.line_no,
            "sku": r.sku,
            "location": r.code,
            "lot": r.lot or None,
            "to_pick": r.qty,
            "picked": r.picked,
        }
        for r in conn.execute(
            select(A, SOL.c.line_no, P.c.sku, L.c.code)
            .join(SOL, SOL.c.id == A.c.line_id)
            .join(P, P.c.id == A.c.product_id)
            .join(L, L.c.id == A.c.location_id)
            .where(A.c.order_id == row.id)
            .order_by(L.c.code, A.c.lot, A.c.id)
        )
    ]
    packages = list(
        conn.execute(
            select(PK.c.sscc).where(PK.c.sales_order_id == row.id).order_by(PK.c.id)
        ).scalars()
    )
    return {
        "ref": row.ref,
        "site": row.site,
        "customer": row.customer,
        "requested_date": row.requested_date,
        "status": row.status,
        "shortage": row.shortage,
        "reserved_until": row.reserved_until,
        "created_at": row.created_at,
        "lines": lines,
        "pick_tasks": tasks,
        "packages": packages,
    }


def package(conn: Connection, sscc: str) -> dict[str, Any]:
    """One package: its order, status and contents (and, outbound, where they wait)."""
    row = conn.execute(
        select(
            PK, PO.c.ref.label("po_ref"), SO.c.ref.label("so_ref"), SO.c.customer.label("customer")
        )
        .outerjoin(PO, PO.c.id == PK.c.purchase_order_id)
        .outerjoin(SO, SO.c.id == PK.c.sales_order_id)
        .where(PK.c.sscc == sscc)
    ).first()
    if row is None:
        raise NotFound(f"no package has SSCC {sscc}", field="sscc")
    contents = [
        {
            "sku": r.sku,
            "name": r.name,
            "qty": r.qty,
            "lot": r.lot or None,
            "expiry": r.expiry,
            "location": r.code,
        }
        for r in conn.execute(
            select(PKL, P.c.sku, P.c.name, L.c.code)
            .join(P, P.c.id == PKL.c.product_id)
            .outerjoin(L, L.c.id == PKL.c.location_id)
            .where(PKL.c.package_id == row.id)
            .order_by(PKL.c.line_no)
        )
    ]
    return {
        "sscc": row.sscc,
        "site": row.site,
        "direction": row.direction,
        "status": row.status,
        "order_ref": row.po_ref or row.so_ref,
        "customer": row.customer,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "contents": contents,
    }


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
) -> Page:
    """The exceptions queue, newest first."""
    filters = []
    if status:
        filters.append(X.c.status == status)
    if kind:
        filters.append(X.c.kind == kind)
    if order_ref:
        filters.append(X.c.order_ref == order_ref)
    if sku:
        filters.append(X.c.sku == sku)
    rows, after = _page(conn, X, filters, sites, limit, cursor)
    return Page([exception_row(r) for r in rows], after)


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


def return_doc(conn: Connection, ref: str) -> dict[str, Any]:
    """One return: its order, where it arrived, and each line's disposition."""
    r, rl, to = orm.returns, orm.return_lines, L.alias("to")
    head = conn.execute(
        select(r, SO.c.ref.label("order_ref"), L.c.code)
        .join(SO, SO.c.id == r.c.sales_order_id)
        .join(L, L.c.id == r.c.location_id)
        .where(r.c.ref == ref)
    ).first()
    if head is None:
        raise NotFound(f"return {ref!r} does not exist", field="ref")
    lines = [
        {
            "sku": x.sku,
            "qty": x.qty,
            "lot": x.lot or None,
            "disposition": x.disposition,
            "to_location": x.to_code,
        }
        for x in conn.execute(
            select(rl, P.c.sku, to.c.code.label("to_code"))
            .join(P, P.c.id == rl.c.product_id)
            .outerjoin(to, to.c.id == rl.c.to_location_id)
            .where(rl.c.return_id == head.id)
            .order_by(rl.c.line_no)
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
        select(orm.count_sessions).where(orm.count_sessions.c.id == session.id)
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


def site_of(conn: Connection, table: str, ref: str) -> str:
    """The site of a return or count by its ref; 404 naming it."""
    t = orm.returns if table == "return" else orm.count_sessions
    site = conn.execute(select(t.c.site).where(t.c.ref == ref)).scalar()
    if site is None:
        raise NotFound(f"{table} {ref!r} does not exist", field="ref")
    return str(site)


def transfer_doc(conn: Connection, ref: str) -> dict[str, Any]:
    """One transfer: where from and to, its status, and each line shipped and received."""
    found = SqlTransfers(conn).get(ref, lock=False)
    if found is None:
        raise NotFound(f"transfer {ref!r} does not exist", field="ref")
    return {
        "ref": found.ref,
        "from_site": found.from_site,
        "to_site": found.to_site,
        "from_location": found.from_location,
        "to_location": found.to_location,
        "status": found.status,
        "lines": [
            {
                "line": x.line_no,
                "sku": x.sku,
                "lot": x.lot or None,
                "qty": x.qty,
                "shipped": x.shipped,
                "received": x.received,
            }
            for x in found.lines
        ],
    }
