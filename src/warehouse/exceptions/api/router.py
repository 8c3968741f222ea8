"""The exceptions queue: what the floor did that did not match, and its resolution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Id, Limit, OrderRef
from warehouse.core.api.responses import Json
from warehouse.exceptions.adapters import queries
from warehouse.exceptions.api.deps import ServiceDep
from warehouse.exceptions.api.schemas import ExceptionOut, ExceptionPage, ResolvedOut, ResolveIn
from warehouse.exceptions.domain import ExceptionKind, Resolution
from warehouse.exceptions.service import queue

router = APIRouter()


@router.get(
    "/exceptions",
    response_model=ExceptionPage,
    tags=["exceptions"],
    **permission("exceptions.read"),
)
async def list_exceptions(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    exception_status: Annotated[
        Literal["open", "resolved", "dismissed"] | None, Query(alias="status")
    ] = "open",
    kind: ExceptionKind | None = None,
    order_ref: OrderRef | None = None,
    sku: Code | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """The queue, newest first (open ones unless asked): unknown codes, wrong picks, receipt
    discrepancies, negative stock, rejected events, RFID tags missing or unexpected."""
    page = await reads.run(
        queries.exceptions,
        sites=listing_sites(principal, "exceptions.read", site),
        status=exception_status,
        kind=kind.value if kind else None,
        order_ref=order_ref,
        sku=sku,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get(
    "/exceptions/{exception_id}",
    response_model=ExceptionOut,
    tags=["exceptions"],
    **permission("exceptions.read"),
)
async def get_exception(
    exception_id: Annotated[Id, Path()], reads: ReadsDep, principal: PrincipalDep
) -> Json:
    """One exception with what it concerns and how it may be resolved."""
    found = await reads.run(queries.exception, exception_id)
    require_sites(principal, "exceptions.read", [found["site"]], every=True)
    return Json(found)


@router.post(
    "/exceptions/{exception_id}/resolve",
    response_model=ResolvedOut,
    tags=["exceptions"],
    **permission("exceptions.resolve"),
)
def resolve_exception(
    exception_id: Annotated[Id, Path()],
    body: ResolveIn,
    service: ServiceDep,
    principal: PrincipalDep,
) -> Json:
    """Resolve with one of the exception's ``suggestions``. Linking an unknown code applies
    the event that waited for it; an adjustment is posted against LOSS; a dismissal needs a
    note. Audited; an exception that is not open is a 409."""
    done = queue.resolve(
        service.uow(),
        service.catalog,
        exception_id,
        queue.ResolveRequest(
            Resolution(body.resolution),
            principal.actor,
            body.note,
            body.sku,
            body.location,
            body.lot,
            body.qty,
        ),
        datetime.now(UTC),
        service.waiting_event,
        lambda site: require_sites(principal, "exceptions.resolve", [site], every=True),
    )
    with service.engine.connect() as conn:
        found = queries.exception(conn, exception_id)
    return Json({"exception": found, "movement_ids": done.get("movement_ids", [])})
