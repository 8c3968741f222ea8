"""Transfers between locations of a site, or between sites through transit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import AwareDatetime

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Limit, OrderRef
from warehouse.core.api.responses import Json
from warehouse.orders.adapters import movement_docs
from warehouse.orders.api.deps import ServiceDep
from warehouse.orders.api.schemas import ArrivalIn, TransferIn, TransferOut, TransferPage
from warehouse.orders.service import transfers
from warehouse.orders.service.receiving import LineRequest
from warehouse.stock.adapters import location_queries

router = APIRouter()


RefPath = Annotated[OrderRef, Path()]


def _transfer(service: ServiceDep, ref: str) -> dict[str, object]:
    with service.engine.connect() as conn:
        return movement_docs.transfer_doc(conn, ref)


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
        sites = location_queries.location_sites(conn, [body.from_location])
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
    "/transfers", response_model=TransferPage, tags=["transfers"], **permission("orders.read")
)
async def list_transfers(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Annotated[Code | None, Query(description="From or to this site")] = None,
    transfer_status: Annotated[
        Literal["draft", "in_transit", "received", "cancelled"] | None, Query(alias="status")
    ] = None,
    sku: Code | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Created at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Created before")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Transfers from or to the sites one may see, newest first, with their lines:
    ``status=in_transit`` lists what is on its way."""
    page = await reads.run(
        movement_docs.transfers,
        sites=listing_sites(principal, "orders.read", site),
        status=transfer_status,
        sku=sku,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


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
