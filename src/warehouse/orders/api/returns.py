"""Customer returns (RMA) against a sales order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import AwareDatetime

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Limit, OrderRef
from warehouse.core.api.responses import Json
from warehouse.orders.adapters import movement_docs, queries
from warehouse.orders.api.deps import ServiceDep
from warehouse.orders.api.schemas import ReturnIn, ReturnOut, ReturnPage
from warehouse.orders.service import returns
from warehouse.orders.service.returns import Disposition, ReturnLineRequest, ReturnRequest

router = APIRouter()


RefPath = Annotated[OrderRef, Path()]


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
        site = queries.order_site(conn, "sales", body.order_ref)
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
        doc = movement_docs.return_doc(conn, body.ref)
    return Json({**doc, "movement_ids": ids}, status_code=201)


@router.get("/returns", response_model=ReturnPage, tags=["returns"], **permission("orders.read"))
async def list_returns(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    order_ref: OrderRef | None = None,
    sku: Code | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Recorded before")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Returns at the sites one may see, newest first, with their lines; ``order_ref`` keeps
    one sales order's, ``sku`` those that brought the product back."""
    page = await reads.run(
        movement_docs.returns,
        sites=listing_sites(principal, "orders.read", site),
        order_ref=order_ref,
        sku=sku,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get(
    "/returns/{ref}",
    response_model=ReturnOut,
    tags=["returns"],
    **permission("orders.read"),
)
async def get_return(ref: RefPath, reads: ReadsDep, principal: PrincipalDep) -> Json:
    """One return with its lines and their dispositions."""
    doc = await reads.run(movement_docs.return_doc, ref)
    require_sites(principal, "orders.read", [doc["site"]], every=True)
    return Json(doc)
