"""Customer returns, transfers and cycle counts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, status

from warehouse.adapters import order_queries, queries
from warehouse.domain.access import ACTIONS, Principal
from warehouse.entrypoints.api.deps import ReadsDep, ServiceDep
from warehouse.entrypoints.api.responses import Json
from warehouse.entrypoints.api.schemas_orders import (
    ArrivalIn,
    CountEntriesIn,
    CountIn,
    CountOut,
    OrderRef,
    ReturnIn,
    ReturnOut,
    TransferIn,
    TransferOut,
)
from warehouse.entrypoints.api.security import PrincipalDep, permission, require_sites
from warehouse.service_layer import counts, returns, transfers
from warehouse.service_layer.counts import CountEntry
from warehouse.service_layer.receiving import LineRequest
from warehouse.service_layer.returns import Disposition, ReturnLineRequest, ReturnRequest

router = APIRouter()
RefPath = Annotated[OrderRef, Path()]


def _site(service: ServiceDep, table: str, ref: str) -> str:
    with service.engine.connect() as conn:
        return order_queries.site_of(conn, table, ref)


@router.post(
    "/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnOut,
    tags=["returns"],
    **permission("returns.write"),
)
def record_return(body: ReturnIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Record goods a customer sent back against their sales order: each line arrives at the
    returns location and is restocked, quarantined or scrapped. Never more of a line than
    was shipped and not returned before (a 422 naming the line)."""
    with service.engine.connect() as conn:
        site = order_queries.order_site(conn, "sales", body.order_ref)
    require_sites(principal, "returns.write", [site], every=True)
    ids = returns.record_return(
        service.uow(),
        service.catalog,
        ReturnRequest(
            body.ref,
            body.order_ref,
            body.location,
            [
                ReturnLineRequest(x.sku, x.qty, Disposition(x.disposition), x.lot, x.to_location)
                for x in body.lines
            ],
            principal.actor,
        ),
        datetime.now(UTC),
    )
    with service.engine.connect() as conn:
        doc = order_queries.return_doc(conn, body.ref)
    return Json({**doc, "movement_ids": ids}, status_code=201)


@router.get(
    "/returns/{ref}",
    response_model=ReturnOut,
    tags=["returns"],
    **permission("orders.read"),
)
async def get_return(ref: RefPath, reads: ReadsDep, principal: PrincipalDep) -> Json:
    """One return with its lines and their dispositions."""
    doc = await reads.run(order_queries.return_doc, ref)
    require_sites(principal, "orders.read", [doc["site"]], every=True)
    return Json(doc)


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
        doc = order_queries.count_doc(conn, ref, show_book=show)
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
        sites = queries.location_sites(conn, [body.location])
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


@router.get("/counts/{ref}", response_model=CountOut, tags=["counts"], **permission("counts.read"))
def get_count(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A count's lines (book, counted, variance) and whether it is stale."""
    site = _site(service, "count", ref)
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
    site = _site(service, "count", ref)
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
    site = _site(service, "count", ref)
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
    site = _site(service, "count", ref)
    require_sites(principal, "counts.approve", [site], every=True)
    ids = counts.approve(service.uow(), service.catalog, ref, principal.actor, datetime.now(UTC))
    return _count(service, principal, ref, site, ids)


def _transfer(service: ServiceDep, ref: str) -> dict[str, object]:
    with service.engine.connect() as conn:
        return order_queries.transfer_doc(conn, ref)


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferOut,
    tags=["transfers"],
    **permission("transfers.write"),
)
def create_transfer(body: TransferIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Record a transfer (one may post at the source's site). Nothing moves until it ships."""
    with service.engine.connect() as conn:
        sites = queries.location_sites(conn, [body.from_location])
    require_sites(principal, "transfers.write", sites.values(), every=True)
    transfers.create(
        service.uow(),
        service.catalog,
        transfers.TransferRequest(
            body.ref,
            body.from_location,
            body.to_location,
            [LineRequest(x.sku, x.qty, x.lot, x.expiry) for x in body.lines],
            principal.actor,
        ),
        datetime.now(UTC),
    )
    return Json(_transfer(service, body.ref), status_code=201)


@router.get(
    "/transfers/{ref}", response_model=TransferOut, tags=["transfers"], **permission("orders.read")
)
def get_transfer(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A transfer with what was shipped and received of each line."""
    doc = _transfer(service, ref)
    require_sites(
        principal, "orders.read", [str(doc["from_site"]), str(doc["to_site"])], every=False
    )
    return Json(doc)


@router.post(
    "/transfers/{ref}/ship",
    response_model=TransferOut,
    tags=["transfers"],
    **permission("transfers.write"),
)
def ship_transfer(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Ship: within a site the stock moves to the destination at once; between sites it
    moves into TRANSIT. Refused (409) if the source does not hold it."""
    doc = _transfer(service, ref)
    require_sites(principal, "transfers.write", [str(doc["from_site"])], every=True)
    transfers.ship(service.uow(), service.catalog, ref, principal.actor, datetime.now(UTC))
    return Json(_transfer(service, ref))


@router.post(
    "/transfers/{ref}/receive",
    response_model=TransferOut,
    tags=["transfers"],
    **permission("transfers.write"),
)
def receive_transfer(
    ref: RefPath, service: ServiceDep, principal: PrincipalDep, body: ArrivalIn | None = None
) -> Json:
    """Receive at the destination what arrived (default: all that shipped); each line that
    arrived short or over becomes a ``transfer_discrepancy`` exception."""
    doc = _transfer(service, ref)
    require_sites(principal, "transfers.write", [str(doc["to_site"])], every=True)
    counted: dict[str, Decimal] | None = None
    if body is not None and body.lines is not None:
        counted = {}
        for line in body.lines:
            counted[line.sku] = counted.get(line.sku, Decimal(0)) + line.qty
    transfers.receive(
        service.uow(), service.catalog, ref, counted, principal.actor, datetime.now(UTC)
    )
    return Json(_transfer(service, ref))
