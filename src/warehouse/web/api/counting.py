"""The counts pages: open counts with their progress, one count's lines (book, counted,
variance; a blind count's book only for those who approve), starting a count of a location and
approving its variance, with the same rules as the counts API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.access.domain import ACTIONS
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, OrderRef
from warehouse.counts.adapters import queries as count_queries
from warehouse.counts.api.deps import ServiceDep as CountsDep
from warehouse.counts.service import counting
from warehouse.stock.adapters import location_queries
from warehouse.web.api.pages import HTML
from warehouse.web.api.render import page

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
RefPath = Annotated[OrderRef, Path()]


@router.get("/counts", responses=HTML, summary="Counts", **permission("counts.read"))
async def counts(request: Request, reads: ReadsDep, principal: PrincipalDep) -> Response:
    """Open counts at the viewer's sites with how many lines are counted, and a form to start
    one (for those who may)."""
    found = await reads.run(
        count_queries.counts, sites=listing_sites(principal, "counts.read", None), status="open",
        sku=None, since=None, until=None, limit=100, cursor=None,
    )  # fmt: skip
    context = {"counts": found.items, "nav": "counts"}
    return page(request, "counts.html", context, principal=principal)


@router.post("/counts", responses=HTML, summary="Start a count", **permission("counts.write"))
async def start(
    service: CountsDep,
    principal: PrincipalDep,
    ref: Annotated[OrderRef, Form()],
    location: Annotated[Code, Form()],
    blind: Annotated[bool, Form()] = False,
) -> Response:
    """Open a count of a location and everything under it, with the book as it stands."""

    def run() -> None:
        with service.engine.connect() as conn:
            sites = location_queries.location_sites(conn, [location])
        require_sites(principal, "counts.write", sites.values(), every=True)
        counting.start(
            service.uow(), service.catalog, ref, location, blind, principal.actor,
            datetime.now(UTC),
        )  # fmt: skip

    await run_in_threadpool(run)
    return RedirectResponse(f"/counts/{ref}", status_code=303)


@router.get("/counts/{ref}", responses=HTML, summary="One count", **permission("counts.read"))
async def count(
    request: Request,
    ref: RefPath,
    reads: ReadsDep,
    principal: PrincipalDep,
    approved: Annotated[bool, Query()] = False,
) -> Response:
    """A count's lines as they are counted (the page refreshes them every 5 s), the variance
    where the viewer may see the book, and the approval for managers."""
    site = await reads.run(count_queries.count_site, ref)
    require_sites(principal, "counts.read", [site], every=True)
    may_approve = principal.may_at(ACTIONS["counts.approve"], site)
    doc = await reads.run(count_queries.count_doc, ref, show_book=may_approve)
    context: dict[str, Any] = {
        "c": doc,
        "may_approve": may_approve,
        "approved": approved,
        "counted": sum(1 for x in doc["lines"] if x["counted"] is not None),
        "nav": "counts",
    }
    return page(request, "count.html", context, principal=principal, block="lines")


@router.post(
    "/counts/{ref}/approve",
    responses=HTML,
    summary="Approve a count's variance",
    **permission("counts.approve"),
)
async def approve(ref: RefPath, service: CountsDep, principal: PrincipalDep) -> Response:
    """Post every counted line's variance against LOSS (a stale count is refused until it is
    refreshed, as in the API)."""

    def run() -> None:
        with service.engine.connect() as conn:
            site = count_queries.count_site(conn, ref)
        require_sites(principal, "counts.approve", [site], every=True)
        counting.approve(service.uow(), service.catalog, ref, principal.actor, datetime.now(UTC))

    await run_in_threadpool(run)
    return RedirectResponse(f"/counts/{ref}?approved=true", status_code=303)
