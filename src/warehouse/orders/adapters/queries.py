"""The read side of orders and packages: listings newest first with keyset pages, and one
document each (returns and transfers: ``movement_docs.py``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, newest_first
from warehouse.orders.adapters import tables as orders_tables
from warehouse.partners.adapters import tables as partner_tables
from warehouse.stock.adapters import tables as stock_tables

P, L, A = catalog_tables.products, stock_tables.locations, orders_tables.allocations
PK, PKL = orders_tables.packages, orders_tables.package_lines
PO, POL, SO, SOL = (
    orders_tables.purchase_orders,
    orders_tables.purchase_order_lines,
    orders_tables.sales_orders,
    orders_tables.sales_order_lines,
)


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
    rows, after = newest_first(conn, PO, filters, sites, limit, cursor)
    return Page([_purchase_order(conn, r) for r in rows], after)


def purchase_order(conn: Connection, ref: str) -> dict[str, Any]:
    row = conn.execute(select(PO).where(PO.c.ref == ref)).first()
    if row is None:
        raise NotFound(f"purchase order {ref!r} does not exist", field="ref")
    return _purchase_order(conn, row)


def _partner_code(conn: Connection, partner_id: int | None) -> str | None:
    if partner_id is None:
        return None
    t = partner_tables.partners
    return conn.execute(select(t.c.code).where(t.c.id == partner_id)).scalar_one_or_none()


def _purchase_order(conn: Connection, row: Any) -> dict[str, Any]:
    lines = [
        {
            "line": r.line_no,
            "sku": r.sku,
            "qty": r.qty,
            "received": r.received,
            "lot": r.lot or None,
            "expiry": r.expiry,
            "unit_cost_minor": r.unit_cost_minor,
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
        "partner": _partner_code(conn, row.partner_id),
        "currency": row.currency,
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
    rows, after = newest_first(conn, SO, filters, sites, limit, cursor)
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
        "partner": _partner_code(conn, row.partner_id),
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
