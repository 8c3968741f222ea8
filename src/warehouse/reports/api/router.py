"""Reports, as JSON or, with ``format=csv``, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import AwareDatetime

from warehouse.access.api.security import (
    PrincipalDep,
    default_site,
    listing_sites,
    permission,
    require_sites,
)
from warehouse.access.domain import Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Ref
from warehouse.core.api.responses import Json
from warehouse.core.errors import QueryRule
from warehouse.orders.adapters import replenishment
from warehouse.reports.adapters import queries, sales_queries
from warehouse.valuation.adapters import queries as valuation_queries

router = APIRouter()


Format = Annotated[Literal["json", "csv"], Query(alias="format")]


SiteQuery = Annotated[Code | None, Query(description="Default: your one site")]


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/csv": {}},
        "description": "The rows as JSON (``{items: [...]}``) or, with format=csv, CSV",
    }
}


def _site(principal: Principal, action: str, site: str | None) -> str:
    if site is None:
        site = default_site(principal, action)
        if site is None:
            raise QueryRule("name a site (you may see every one)", field="site")
    require_sites(principal, action, [site], every=True)
    return site


def _answer(rows: list[dict[str, Any]], fmt: str, name: str) -> Response:
    if fmt == "json":
        return Json({"items": rows})
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _period(since: datetime | None, until: datetime | None, days: int) -> tuple[datetime, datetime]:
    """The period asked for: ``until`` (default now) and ``since`` (default ``days`` before)."""
    end = until or datetime.now(UTC)
    if since is not None:
        return since, end
    try:
        return end - timedelta(days=days), end
    except OverflowError:
        raise QueryRule(
            f"until {end.isoformat()} leaves no room for the default {days} days before it; "
            "give since",
            field="until",
        ) from None


@router.get(
    "/reports/low-stock", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def low_stock(
    reads: ReadsDep, principal: PrincipalDep, site: SiteQuery = None, fmt: Format = "json"
) -> Response:
    """Products whose available stock at the site is below their reorder point."""
    site = _site(principal, "reports.read", site)
    return _answer(await reads.run(queries.low_stock, site), fmt, f"low-stock-{site}")


@router.get(
    "/reports/reorder", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def reorder(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    window_days: Annotated[int, Query(ge=1, le=365, description="Sales velocity window")] = 28,
    cover_days: Annotated[int, Query(ge=0, le=365, description="Cover after the lead time")] = 14,
    lead_days: Annotated[int, Query(ge=0, le=365, description="For suppliers with no history")] = 7,
    fmt: Format = "json",
) -> Response:
    """Reorder suggestions: daily sales over the window, days of cover left, the supplier's
    lead time (measured from past orders to their first receipt), and how much to order to
    cover the lead time plus ``cover_days`` beyond what is already on order."""
    site = _site(principal, "reports.read", site)
    rows = await reads.run(
        replenishment.reorder,
        site,
        now=datetime.now(UTC),
        window_days=window_days,
        cover_days=cover_days,
        default_lead_days=lead_days,
    )
    return _answer(rows, fmt, f"reorder-{site}")


@router.get(
    "/reports/fill-rate", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def fill_rate(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    fmt: Format = "json",
) -> Response:
    """Of the units ordered on sales orders created in the period (default: 30 days), the
    share shipped; and the share of orders shipped complete."""
    site = _site(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(queries.fill_rate, site, since=start, until=end)
    return _answer(rows, fmt, f"fill-rate-{site}")


@router.get(
    "/reports/pick-accuracy", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def pick_accuracy(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    fmt: Format = "json",
) -> Response:
    """Per pick station, picks that settled a task against picks refused (wrong item,
    location, lot, or more than was left), over the period (default: 30 days)."""
    site = _site(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(queries.pick_accuracy, site, since=start, until=end)
    return _answer(rows, fmt, f"pick-accuracy-{site}")


@router.get(
    "/reports/stock-as-of", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def stock_as_of(
    reads: ReadsDep,
    principal: PrincipalDep,
    at: AwareDatetime,
    site: SiteQuery = None,
    sku: Ref | None = None,
    fmt: Format = "json",
) -> Response:
    """Stock per product, location and lot as the ledger stood at ``at`` (event time)."""
    site = _site(principal, "reports.read", site)
    rows = await reads.run(queries.stock_as_of, site, at=at, sku=sku)
    return _answer(rows, fmt, f"stock-{site}-{at:%Y%m%dT%H%M%S}")


ValueGroup = Annotated[
    Literal["site", "category", "product"],
    Query(description="One row per site, category or product"),
]
AnySite = Annotated[Code | None, Query(description="Default: every site you may see")]


@router.get(
    "/reports/valuation", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def valuation(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: AnySite = None,
    at: Annotated[
        AwareDatetime | None, Query(description="As of (event time); default now")
    ] = None,
    group_by: ValueGroup = "product",
    fmt: Format = "json",
) -> Response:
    """Stock value (minor units of the book currency) and quantity per site, category or
    product, as of ``at``: the sum of the valuation entries of every movement up to then."""
    sites = listing_sites(principal, "reports.read", site)
    rows = await reads.run(valuation_queries.valuation, sites, at, group_by)
    return _answer(rows, fmt, f"valuation-by-{group_by}")


@router.get(
    "/reports/valuation/rollforward",
    tags=["reports"],
    responses=CSV_RESPONSE,
    **permission("reports.read"),
)
async def rollforward(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: AnySite = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    group_by: ValueGroup = "site",
    fmt: Format = "json",
) -> Response:
    """The period (default: 30 days) per site, category or product: opening value, receipts,
    transfers in and out, cost of goods sold (net of returns), write-offs (net of stock found),
    cost adjustments, revaluations (standard costs changed), closing value, and the purchase
    price variance of standard-cost products. opening + receipts + transfers_in - transfers_out
    - cogs - writeoffs - adjustments + revaluations = closing."""
    sites = listing_sites(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(valuation_queries.rollforward, sites, start, end, group_by)
    return _answer(rows, fmt, f"valuation-rollforward-by-{group_by}")


SalesGroup = Literal["day", "product", "register", "cashier"]


@router.get(
    "/reports/sales", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def sales(
    reads: ReadsDep,
    principal: PrincipalDep,
    group_by: SalesGroup = "day",
    site: SiteQuery = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    fmt: Format = "json",
) -> Response:
    """Point-of-sale sales over the period (default: 30 days) by day (UTC), product, register
    or cashier: sales, quantity, net of discounts and promotions, the discounts given, the
    quantity returned since, and cost and margin where every line's cost is known."""
    site = _site(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(sales_queries.sales_report, group_by, [site], start, end)
    return _answer(rows, fmt, f"sales-by-{group_by}-{site}")


@router.get(
    "/reports/top-sellers", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read")
)
async def top_sellers(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    fmt: Format = "json",
) -> Response:
    """The products sold most (by quantity) at the site's registers over the period
    (default: 30 days), with the same figures as the sales report."""
    site = _site(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(sales_queries.sales_report, "product", [site], start, end, limit)
    return _answer(rows, fmt, f"top-sellers-{site}")


@router.get("/reports/tax", tags=["reports"], responses=CSV_RESPONSE, **permission("reports.read"))
async def tax(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    fmt: Format = "json",
) -> Response:
    """Tax per rate over the period (default: 30 days): the taxable base and the tax of the
    sales, less what refunds in the period gave back."""
    site = _site(principal, "reports.read", site)
    start, end = _period(since, until, 30)
    rows = await reads.run(sales_queries.tax_report, [site], start, end)
    return _answer(rows, fmt, f"tax-{site}")
