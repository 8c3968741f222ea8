"""A product's page: its lots' expiry dates, its physical stock day by day from the ledger, and
the sales orders holding it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, or_, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.orders.adapters import tables as order_tables
from warehouse.reports.adapters.today import sites_of_locations
from warehouse.stock.adapters import tables as stock_tables


def expiries(conn: Connection, sku: str) -> dict[str, date | None]:
    """Lot -> its expiry date (None when none was read)."""
    p, lots = catalog_tables.products, stock_tables.lots
    rows = conn.execute(
        select(lots.c.lot, lots.c.expiry).join(p, p.c.id == lots.c.product_id).where(p.c.sku == sku)
    )
    return {row.lot: row.expiry for row in rows}


def history(
    conn: Connection,
    sku: str,
    sites: Collection[str] | None,
    on_hand_now: Decimal,
    days: int,
    zone: tzinfo,
) -> list[tuple[date, Decimal]]:
    """On hand at the end of each of the last ``days`` days in ``zone`` (oldest first), at the
    physical locations of ``sites`` (None: all): today's figure less each later day's net
    flow, read back from the ledger (movements by their time on the floor)."""
    site_of = sites_of_locations(conn)
    mine = {loc for loc, site in site_of.items() if sites is None or site in sites}
    m, p = stock_tables.movements, catalog_tables.products
    today = datetime.now(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=zone)
    rows = conn.execute(
        select(m.c.occurred_at, m.c.qty, m.c.from_location_id, m.c.to_location_id)
        .join(p, p.c.id == m.c.product_id)
        .where(p.c.sku == sku, m.c.occurred_at >= start.astimezone(UTC))
    )
    net: dict[date, Decimal] = defaultdict(Decimal)
    for occurred_at, qty, source, target in rows:
        change = (qty if target in mine else 0) - (qty if source in mine else 0)
        if change:
            net[occurred_at.astimezone(zone).date()] += change
    series, level = [], on_hand_now
    for n in range(days):
        day = today - timedelta(days=n)
        series.append((day, level))
        level -= net.get(day, Decimal(0))
    return series[::-1]


def reservations(conn: Connection, sku: str, sites: Collection[str] | None) -> list[dict[str, Any]]:
    """Sales orders holding the product: what is still to pick, and picked but not shipped."""
    a, o, p = order_tables.allocations, order_tables.sales_orders, catalog_tables.products
    loc = stock_tables.locations
    query = (
        select(o.c.ref, o.c.site, o.c.status, loc.c.code, a.c.lot, a.c.qty, a.c.staged)
        .select_from(
            a.join(o, o.c.id == a.c.order_id)
            .join(p, p.c.id == a.c.product_id)
            .join(loc, loc.c.id == a.c.location_id)
        )
        .where(p.c.sku == sku, or_(a.c.qty > 0, a.c.staged > 0))
        .order_by(o.c.ref, loc.c.code, a.c.lot)
    )
    if sites is not None:
        query = query.where(o.c.site.in_(sorted(sites)))
    return [
        {"order": r.ref, "site": r.site, "status": r.status, "location": r.code,
         "lot": r.lot or None, "to_pick": r.qty, "staged": r.staged}
        for r in conn.execute(query)
    ]  # fmt: skip
