"""Cycle counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import AwareDatetime

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.access.domain import ACTIONS, Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Limit, OrderRef
from warehouse.core.api.responses import Json
from warehouse.counts.adapters import queries
from warehouse.counts.api.deps import ServiceDep
from warehouse.counts.api.schemas import CountEntriesIn, CountIn, CountOut, CountPage
from warehouse.counts.service import counting as counts
from warehouse.counts.service.counting import CountEntry
from warehouse.stock.adapters import location_queries

router = APIRouter()


RefPath = Annotated[OrderRef, Path()]


def _site(service: ServiceDep, ref: str) -> str:
    with service.engine.connect() as conn:
        return queries.count_site(conn, ref)


def _count(
    service: ServiceDep,
    principal: Principal,
    ref: str,
    site: str | None,
    ids: list[int] | None = None,
) -> Json:
    """The count as the principal may see it (a blind count's book only for approvers)."""
    show = principal.may_at(ACTIONS["counts.approve"], site)
    with service.engine.connect() as conn:
        doc = queries.count_doc(conn, ref, show_book=show)
    return Json({**doc, "movement_ids": ids or []})


@router.post(
    "/counts",
    status_code=status.HTTP_201_CREATED,
    response_model=CountOut,
    tags=["counts"],
    **permission("counts.write"),
)
def start_count(body: CountIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Open a count of a location and its subtree, with the book as it stands now. Scans at
    a counting station under it, and RFID sweeps of it, count into it."""
    with service.engine.connect() as conn:
        sites = location_queries.location_sites(conn, [body.location])
    require_sites(principal, "counts.write", sites.values(), every=True)
    counts.start(
        service.uow(),
        service.catalog,
        body.ref,
        body.location,
        body.blind,
        principal.actor,
        datetime.now(UTC),
    )
    response = _count(service, principal, body.ref, sites.get(body.location))
    response.status_code = 201
    return response


@router.get("/counts", response_model=CountPage, tags=["counts"], **permission("counts.read"))
async def list_counts(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    count_status: Annotated[
        Literal["open", "approved", "cancelled"] | None, Query(alias="status")
    ] = None,
    sku: Code | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Started at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Started before")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Counts at the sites one may see, newest first: ``status=open`` lists those still being
    counted; ``sku`` those whose book takes in the product."""
    page = await reads.run(
        queries.counts,
        sites=listing_sites(principal, "counts.read", site),
        status=count_status,
        sku=sku,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get("/counts/{ref}", response_model=CountOut, tags=["counts"], **permission("counts.read"))
def get_count(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A count's lines (book, counted, variance) and whether it is stale."""
    site = _site(service, ref)
    require_sites(principal, "counts.read", [site], every=True)
    return _count(service, principal, ref, site)


@router.post(
    "/counts/{ref}/entries",
    response_model=CountOut,
    tags=["counts"],
    **permission("counts.write"),
)
def enter_counts(
    ref: RefPath, body: CountEntriesIn, service: ServiceDep, principal: PrincipalDep
) -> Json:
    """Enter counted quantities by hand (a scanner or a sweep counts by itself)."""
    site = _site(service, ref)
    require_sites(principal, "counts.write", [site], every=True)
    counts.enter(
        service.uow(),
        service.catalog,
        ref,
        [CountEntry(x.sku, x.location, Decimal(x.qty), x.lot) for x in body.entries],
        principal.actor,
        datetime.now(UTC),
    )
    return _count(service, principal, ref, site)


@router.post(
    "/counts/{ref}/refresh",
    response_model=CountOut,
    tags=["counts"],
    **permission("counts.write"),
)
def refresh_count(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Take the book again after stock moved during the count (what was counted stays)."""
    site = _site(service, ref)
    require_sites(principal, "counts.write", [site], every=True)
    counts.refresh(service.uow(), ref, principal.actor, datetime.now(UTC))
    return _count(service, principal, ref, site)


@router.post(
    "/counts/{ref}/approve",
    response_model=CountOut,
    tags=["counts"],
    **permission("counts.approve"),
)
def approve_count(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Post the variance of every counted line against LOSS. A stale count is a 409 until it
    is refreshed."""
    site = _site(service, ref)
    require_sites(principal, "counts.approve", [site], every=True)
    ids = counts.approve(service.uow(), service.catalog, ref, principal.actor, datetime.now(UTC))
    return _count(service, principal, ref, site, ids)
