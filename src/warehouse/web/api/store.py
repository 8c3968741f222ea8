"""The point of sale page (registers and their sessions, today's takings by tender, the top
sellers and the refunds, one site at a time) and the orders board."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from warehouse.access.api.security import (
    PrincipalDep,
    listing_sites,
    permission,
    require_sites,
)
from warehouse.access.domain import ACTIONS
from warehouse.core.api.deps import ReadsDep
from warehouse.core.errors import NotFound
from warehouse.orders.adapters import movement_docs
from warehouse.orders.adapters import queries as orders_queries
from warehouse.pos.adapters import listings
from warehouse.pos.adapters import queries as pos_queries
from warehouse.pos.api.deps import ServiceDep as PosDep
from warehouse.pos.service import registers
from warehouse.reports.adapters import sales_queries, today
from warehouse.web.adapters import pos_day
from warehouse.web.api.pages import HTML, viewer_zone
from warehouse.web.api.render import page

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)


@router.get("/pos", responses=HTML, summary="Point of sale today", **permission("pos.read"))
async def pos(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """One site's registers with their open sessions, the sessions opened today (X or Z
    report each), takings by tender, top sellers (for those who may read reports) and refunds,
    since the start of the viewer's day."""
    allowed = principal.sites_for(ACTIONS["pos.read"])
    if not site:
        if allowed is None:
            found = await reads.run(listings.registers, sites=None, limit=1, cursor=None)
            site = found.items[0]["site"] if found.items else ""
        else:
            site = sorted(allowed)[0]
    if not site:
        raise NotFound("no site has registers yet (POST /api/v1/pos/registers)", field="site")
    require_sites(principal, "pos.read", [site], every=True)
    zone = viewer_zone(request)
    since = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = since.astimezone(UTC)
    registers = await reads.run(listings.registers, sites=[site], limit=100, cursor=None)
    sessions = await reads.run(
        listings.sessions, sites=[site], register=None, status=None, since=start, until=None,
        limit=100, cursor=None,
    )  # fmt: skip
    context: dict[str, Any] = {
        "site": site,
        "sites": sorted(allowed) if allowed is not None else [],
        "since": since,
        "zone": zone.key,
        "registers": registers.items,
        "sessions": sessions.items,
        "tenders": await reads.run(pos_day.takings_by_tender, site, start),
        "refunds": await reads.run(pos_day.refunds, site, start),
        "currency": await reads.run(today.site_currency, site),
        "top": None,
        "nav": "pos",
    }
    if principal.may_at(ACTIONS["reports.read"], site):
        context["top"] = await reads.run(
            sales_queries.sales_report, "product", [site], start, None, 10
        )
    return page(request, "pos.html", context, principal=principal)


#: The sales order lanes of the board, in the order work flows through them.
LANES = (
    ("confirmed", "Reserved"),
    ("picked", "Picked"),
    ("packed", "Packed"),
    ("partially_shipped", "Partly shipped"),
    ("shipped", "Shipped (latest)"),
)


@router.get("/orders", responses=HTML, summary="The orders board", **permission("orders.read"))
async def orders(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Purchase orders being received (expected against received), sales orders from
    reserved to shipped with their packages' labels, and transfers in transit."""
    sites = listing_sites(principal, "orders.read", site or None)
    lanes = []
    for status, title in LANES:
        found = await reads.run(
            orders_queries.sales_orders, sites=sites, status=status, customer=None, limit=25,
            cursor=None,
        )  # fmt: skip
        lanes.append({"status": status, "title": title, "orders": found.items})
    receiving = await reads.run(
        orders_queries.purchase_orders, sites=sites, status="open", supplier=None, limit=25,
        cursor=None,
    )  # fmt: skip
    moving = await reads.run(
        movement_docs.transfers, sites=sites, status="in_transit", sku=None, since=None,
        until=None, limit=25, cursor=None,
    )  # fmt: skip
    context: dict[str, Any] = {
        "site": site,
        "lanes": lanes,
        "purchase_orders": receiving.items,
        "transfers": moving.items,
        "nav": "orders",
    }
    return page(request, "orders.html", context, principal=principal)


@router.get(
    "/pos/sessions/{session_id}",
    responses=HTML,
    summary="A cashier session's X or Z report",
    **permission("pos.read"),
)
async def session_report(
    request: Request,
    session_id: Annotated[int, Path(ge=1, le=2**62)],
    service: PosDep,
    reads: ReadsDep,
    principal: PrincipalDep,
) -> Response:
    """The session's X report while it is open, its frozen Z report once closed: sales,
    refunds, discounts, takings by tender and tax rate, and the cash expected in the drawer."""
    site = await reads.run(pos_queries.session_site, session_id)
    require_sites(principal, "pos.read", [site], every=True)
    report = await run_in_threadpool(registers.x_report, service.uow(), session_id)
    context: dict[str, Any] = {
        "r": report,
        "currency": await reads.run(today.site_currency, site),
        "nav": "pos",
    }
    return page(request, "pos_report.html", context, principal=principal)
