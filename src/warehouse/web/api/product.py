"""A product's page: stock per location and lot with expiry, a chart of stock over the last
30 days from the ledger, recent movements with who or which device made them, and the sales
orders holding it; each part for those whose grants show it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.access.domain import ACTIONS
from warehouse.core.api.deps import Reads, ReadsDep
from warehouse.core.api.params import Code
from warehouse.stock.adapters import movement_queries, stock_queries
from warehouse.web.adapters import product as product_queries
from warehouse.web.api.chart import line_chart
from warehouse.web.api.pages import HTML, viewer_zone
from warehouse.web.api.render import page

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
DAYS = 30


@router.get(
    "/products/{sku}", responses=HTML, summary="A product's stock", **permission("stock.read")
)
async def product(
    request: Request, sku: Annotated[Code, Path()], reads: ReadsDep, principal: PrincipalDep
) -> Response:
    """Stock of one product at the viewer's sites, its history and what holds it."""
    sites = principal.sites_for(ACTIONS["stock.read"])
    stock = await reads.run(stock_queries.stock_for_sku, sku, sites)
    zone = viewer_zone(request)
    series = await reads.run(product_queries.history, sku, sites, stock["on_hand"], DAYS, zone)
    expiries = await reads.run(product_queries.expiries, sku)
    today = datetime.now(UTC).date()
    context: dict[str, Any] = {
        "p": stock,
        "expiries": expiries,
        "today": today,
        "chart": line_chart(series),
        "series": series,
        "days": DAYS,
        "movements": None,
        "reservations": None,
        "nav": "stock",
    }
    if principal.may(ACTIONS["movements.read"]):
        context["movements"] = await _recent(
            reads, sku, principal.sites_for(ACTIONS["movements.read"])
        )
    if principal.may(ACTIONS["orders.read"]):
        holding = principal.sites_for(ACTIONS["orders.read"])
        context["reservations"] = await reads.run(product_queries.reservations, sku, holding)
    return page(request, "product.html", context, principal=principal)


async def _recent(reads: Reads, sku: str, sites: frozenset[str] | None) -> list[dict[str, Any]]:
    """The product's last 20 movements at ``sites`` (either side of each), newest first."""
    wanted: list[str | None] = [None] if sites is None else [*sorted(sites)]
    rows: dict[int, dict[str, Any]] = {}
    for site in wanted:
        found = await reads.run(movement_queries.movements, sku=sku, location=site, limit=20)
        rows.update({m["id"]: m for m in found.items})
    return [rows[i] for i in sorted(rows, reverse=True)[:20]]
