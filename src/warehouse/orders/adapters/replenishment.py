"""Replenishment: what to order, from whom and how much — sales velocity over a window, days of
cover left, the supplier's lead time (the supplier item's, else the partner's, else measured
from past orders, else a default), and a quantity that covers the lead time plus the cover days
beyond what is already on order, rounded up to the supplier's minimum and order multiple."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, type_coerce

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.types import Quantity, to_plain
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.domain import PurchaseStatus
from warehouse.partners.adapters.queries import sources
from warehouse.partners.domain import order_quantity
from warehouse.stock.adapters import tables as stock_tables

P, L, S, M = (
    catalog_tables.products,
    stock_tables.locations,
    stock_tables.stock,
    stock_tables.movements,
)
PO, POL = orders_tables.purchase_orders, orders_tables.purchase_order_lines
ZERO = Decimal(0)
#: Orders whose unreceived quantities are still coming (a draft will be, once confirmed).
COMING = (PurchaseStatus.OPEN.value, PurchaseStatus.DRAFT.value)


def available(conn: Connection, site: str) -> dict[int, tuple[Decimal, Decimal]]:
    """On hand and available per product at a site's physical locations."""
    rows = conn.execute(
        select(
            S.c.product_id,
            type_coerce(func.sum(S.c.on_hand), Quantity).label("on_hand"),
            type_coerce(func.sum(S.c.on_hand - S.c.reserved), Quantity).label("available"),
        )
        .where(S.c.location_path.startswith(f"/{site}/"))
        .group_by(S.c.product_id)
    )
    return {r.product_id: (r.on_hand, r.available) for r in rows}


def _shipped_per_day(
    conn: Connection, site: str, since: datetime, until: datetime
) -> dict[int, Decimal]:
    src = L.alias("src")
    dst = L.alias("dst")
    rows = conn.execute(
        select(M.c.product_id, type_coerce(func.sum(M.c.qty), Quantity).label("qty"))
        .join(src, src.c.id == M.c.from_location_id)
        .join(dst, dst.c.id == M.c.to_location_id)
        .where(
            M.c.kind.in_(["ship", "sale"]),
            dst.c.kind == "customer",
            src.c.path.startswith(f"/{site}/"),
            M.c.occurred_at >= since,
            M.c.occurred_at < until,
        )
        .group_by(M.c.product_id)
    )
    days = Decimal(max((until - since).total_seconds() / 86400, 1 / 24))
    return {r.product_id: r.qty / days for r in rows}


def supplier_lead_days(conn: Connection, site: str) -> dict[str, Decimal]:
    """Per supplier, the mean days from ordering to the first receipt against the order."""
    first = (
        select(M.c.order_ref, func.min(M.c.occurred_at).label("first"))
        .where(M.c.kind == "receive", M.c.order_ref.is_not(None))
        .group_by(M.c.order_ref)
        .subquery()
    )
    waits: dict[str, list[float]] = {}
    for r in conn.execute(
        select(PO.c.supplier, PO.c.created_at, first.c.first)
        .join(first, first.c.order_ref == PO.c.ref)
        .where(PO.c.site == site)
    ):
        waits.setdefault(r.supplier, []).append(
            max((_aware(r.first) - _aware(r.created_at)).total_seconds(), 0) / 86400
        )
    return {s: to_plain(Decimal(str(round(sum(w) / len(w), 2)))) for s, w in waits.items()}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def reorder(
    conn: Connection,
    site: str,
    *,
    now: datetime,
    window_days: int,
    cover_days: int,
    default_lead_days: int,
) -> list[dict[str, Any]]:
    """What to order: daily sales over the trailing window, days of cover left, where from
    (the product's supplier: the preferred or quickest that sells it, else the one it was last
    ordered from), its lead time, and a quantity that covers the lead time plus ``cover_days``
    after what is on order (open and draft orders), rounded up to the supplier's minimum and
    order multiple."""
    velocity = _shipped_per_day(conn, site, now - timedelta(days=window_days), now)
    held = available(conn, site)
    measured = supplier_lead_days(conn, site)
    on_order, usual = _on_order(conn, site)
    products = conn.execute(select(P).where(P.c.active).order_by(P.c.sku)).all()
    source = sources(conn, [p.id for p in products])
    out = []
    for p in products:
        daily = velocity.get(p.id, ZERO)
        free = held.get(p.id, (ZERO, ZERO))[1]
        if daily <= 0 and (p.reorder_point is None or free >= p.reorder_point):
            continue
        partner, item = source.get(p.id, (None, None))
        supplier = partner.name if partner else usual.get(p.id)
        lead = Decimal(default_lead_days)
        if item is not None and item.lead_time_days is not None:
            lead = Decimal(item.lead_time_days)
        elif partner is not None and partner.lead_time_days is not None:
            lead = Decimal(partner.lead_time_days)
        elif supplier in measured:
            lead = measured[supplier]
        coming = on_order.get(p.id, ZERO)
        need = daily * (lead + cover_days) - free - coming
        if p.reorder_point is not None:
            need = max(need, p.reorder_point - free - coming)
        if need > 0:
            out.append(
                {
                    "sku": p.sku,
                    "name": p.name,
                    "available": free,
                    "on_order": coming,
                    "daily_sales": daily.quantize(Decimal("0.001")),
                    "days_of_cover": (free / daily).quantize(Decimal("0.1")) if daily > 0 else None,
                    "supplier": supplier,
                    "supplier_code": partner.code if partner else None,
                    "lead_days": lead,
                    "min_order_qty": item.min_order_qty if item else None,
                    "order_multiple": item.order_multiple if item else None,
                    "unit_cost_minor": item.unit_cost_minor if item else None,
                    "suggested_qty": order_quantity(need, item),
                }
            )
    return out


def _on_order(conn: Connection, site: str) -> tuple[dict[int, Decimal], dict[int, str]]:
    """What open and draft orders still bring per product, and who it was last ordered from."""
    on_order: dict[int, Decimal] = {}
    usual: dict[int, str] = {}
    for r in conn.execute(
        select(POL.c.product_id, PO.c.supplier, PO.c.status, POL.c.qty, POL.c.received)
        .join(PO, PO.c.id == POL.c.order_id)
        .where(PO.c.site == site)
        .order_by(PO.c.id)
    ):
        usual[r.product_id] = r.supplier
        if r.status in COMING and r.received < r.qty:
            on_order[r.product_id] = on_order.get(r.product_id, ZERO) + r.qty - r.received
    return on_order, usual
