"""Reports: low stock, reorder suggestions from sales velocity, order fill rate, pick
accuracy, and stock as of a past time (from the ledger). Each returns rows of plain dicts
(the API renders them as JSON or CSV) for one site."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, literal_column, select, type_coerce, union_all

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.types import Quantity, to_plain
from warehouse.exceptions.adapters import tables as exceptions_tables
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.adapters.replenishment import available
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS

P, L, S, M = (
    catalog_tables.products,
    stock_tables.locations,
    stock_tables.stock,
    stock_tables.movements,
)
SO, SOL, PO, POL, X = (
    orders_tables.sales_orders,
    orders_tables.sales_order_lines,
    orders_tables.purchase_orders,
    orders_tables.purchase_order_lines,
    exceptions_tables.floor_exceptions,
)


ZERO = Decimal(0)


PICK_PROBLEMS = ("wrong_item", "over_pick", "wrong_location", "wrong_lot")


def low_stock(conn: Connection, site: str) -> list[dict[str, Any]]:
    """Products whose available stock at the site is below their reorder point."""
    held = available(conn, site)
    out = []
    for p in conn.execute(
        select(P).where(P.c.reorder_point.is_not(None), P.c.active).order_by(P.c.sku)
    ):
        on_hand, free = held.get(p.id, (ZERO, ZERO))
        if free < p.reorder_point:
            out.append(
                {
                    "sku": p.sku,
                    "name": p.name,
                    "on_hand": on_hand,
                    "available": free,
                    "reorder_point": p.reorder_point,
                    "short": p.reorder_point - free,
                }
            )
    return out


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    """A share to four places, as plain as it reads (0.75, 1)."""
    return to_plain((part / whole).quantize(Decimal("0.0001"))) if whole else None


def fill_rate(
    conn: Connection, site: str, *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Of what was ordered (sales orders created in the period, not cancelled), how much has
    shipped: per order line totals, orders shipped complete."""
    rows = conn.execute(
        select(
            SO.c.ref,
            SO.c.status,
            type_coerce(func.sum(SOL.c.qty), Quantity).label("ordered"),
            type_coerce(func.sum(SOL.c.shipped), Quantity).label("shipped"),
        )
        .join(SOL, SOL.c.order_id == SO.c.id)
        .where(
            SO.c.site == site,
            SO.c.status != "cancelled",
            SO.c.created_at >= since,
            SO.c.created_at < until,
        )
        .group_by(SO.c.ref, SO.c.status)
    ).all()
    ordered = sum((r.ordered for r in rows), ZERO)
    shipped = sum((r.shipped for r in rows), ZERO)
    complete = sum(1 for r in rows if r.shipped >= r.ordered)
    return [
        {
            "site": site,
            "since": since,
            "until": until,
            "orders": len(rows),
            "orders_complete": complete,
            "units_ordered": ordered,
            "units_shipped": shipped,
            "fill_rate": _rate(shipped, ordered),
            "order_fill_rate": _rate(Decimal(complete), Decimal(len(rows))),
        }
    ]


def pick_accuracy(
    conn: Connection, site: str, *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Pick scans against orders that settled a task, against those refused (wrong item,
    location, lot, or more than was left), per station."""
    src = L.alias("src")
    good: dict[str, int] = dict(
        conn.execute(
            select(func.coalesce(M.c.station, literal_column("''")), func.count())
            .join(src, src.c.id == M.c.from_location_id)
            .join(SO, SO.c.ref == M.c.order_ref)
            .where(
                M.c.kind == "pick",
                src.c.path.startswith(f"/{site}/"),
                M.c.occurred_at >= since,
                M.c.occurred_at < until,
            )
            .group_by(func.coalesce(M.c.station, literal_column("''")))
        ).all()
    )
    bad: dict[str, int] = dict(
        conn.execute(
            select(func.coalesce(X.c.station, literal_column("''")), func.count())
            .where(
                X.c.kind.in_(PICK_PROBLEMS),
                X.c.site == site,
                X.c.created_at >= since,
                X.c.created_at < until,
            )
            .group_by(func.coalesce(X.c.station, literal_column("''")))
        ).all()
    )
    out = []
    for station in sorted(good.keys() | bad.keys()):
        ok, wrong = int(good.get(station, 0)), int(bad.get(station, 0))
        out.append(
            {
                "station": station or None,
                "picks": ok,
                "refused": wrong,
                "accuracy": _rate(Decimal(ok), Decimal(ok + wrong)),
            }
        )
    return out


def stock_as_of(
    conn: Connection, site: str, *, at: datetime, sku: str | None
) -> list[dict[str, Any]]:
    """On hand per product, physical location and lot at the site as the ledger stood at
    ``at`` (by event time): every movement that occurred up to then, summed."""
    legs = union_all(
        select(
            M.c.product_id,
            M.c.from_location_id.label("location_id"),
            M.c.lot,
            (-M.c.qty).label("qty"),
        ).where(M.c.occurred_at <= at),
        select(
            M.c.product_id, M.c.to_location_id.label("location_id"), M.c.lot, M.c.qty.label("qty")
        ).where(M.c.occurred_at <= at),
    ).subquery()
    query = (
        select(
            P.c.sku,
            L.c.code,
            legs.c.lot,
            type_coerce(func.sum(legs.c.qty), Quantity).label("on_hand"),
        )
        .join(P, P.c.id == legs.c.product_id)
        .join(L, L.c.id == legs.c.location_id)
        .where(L.c.path.startswith(f"/{site}/"), L.c.kind.not_in([k.value for k in VIRTUAL_KINDS]))
        .group_by(P.c.sku, L.c.code, legs.c.lot)
        .having(func.sum(legs.c.qty) != 0)
        .order_by(P.c.sku, L.c.code, legs.c.lot)
    )
    if sku:
        query = query.where(and_(P.c.sku == sku))
    return [
        {"sku": r.sku, "location": r.code, "lot": r.lot or None, "on_hand": r.on_hand}
        for r in conn.execute(query)
    ]
