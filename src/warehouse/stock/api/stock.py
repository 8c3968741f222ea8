"""Stock levels and the movement ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import AwareDatetime

from warehouse.access.api.security import PrincipalDep, permission, require_sites
from warehouse.access.domain import ACTIONS
from warehouse.core.api.conditional import NOT_MODIFIED, IfNoneMatch, conditional
from warehouse.core.api.deps import ReaderDep, ReadsDep
from warehouse.core.api.params import Id, Ref, Text64
from warehouse.core.api.responses import Json
from warehouse.stock.adapters import feed, location_queries, movement_queries, stock_queries
from warehouse.stock.api.deps import ServiceDep
from warehouse.stock.api.schemas import MovementIn, MovementOut, MovementPage, SkuStock, StockPage
from warehouse.stock.api.scope import location_in_scope
from warehouse.stock.service.commands import ManualMovement, MovementRequest
from warehouse.stock.service.movements import record_movement

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]


@router.get(
    "/stock",
    response_model=StockPage,
    tags=["stock"],
    responses=NOT_MODIFIED,
    **permission("stock.read"),
)
async def list_stock(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatch = None,
    sku: Ref | None = None,
    gtin: Annotated[str | None, Query(pattern=r"^\d{8,14}$")] = None,
    location: Annotated[Ref | None, Query(description="A location and its subtree")] = None,
    lot: Text64 | None = None,
    include_zero: bool = False,
    include_virtual: Annotated[
        bool, Query(description="Also supplier, customer, loss, transit: summed from the ledger")
    ] = False,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Stock per product, location and lot; physical locations with stock unless asked.
    Without a location, someone granted one site sees that site's stock. Answers carry an
    ETag; send it back in If-None-Match for a 304 while nothing changed."""
    location = await location_in_scope(principal, "stock.read", location, reads)
    return await conditional(
        request,
        reads,
        if_none_match,
        principal.sites_for(ACTIONS["stock.read"]),
        feed.ledger_version if include_virtual else feed.version,
        stock_queries.stock,
        sku=sku,
        gtin=gtin,
        location=location,
        lot=lot,
        include_zero=include_zero,
        include_virtual=include_virtual,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/stock/{sku}",
    response_model=SkuStock,
    tags=["stock"],
    responses=NOT_MODIFIED,
    **permission("stock.read"),
)
async def stock_of(
    request: Request,
    sku: Annotated[Ref, Path()],
    reads: ReadsDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One product's totals and its stock per location and lot, at the sites one may see;
    with an ETag, as the listing."""
    sites = principal.sites_for(ACTIONS["stock.read"])
    return await conditional(
        request,
        reads,
        if_none_match,
        sites,
        feed.version,
        stock_queries.stock_for_sku,
        sku=sku,
        sites=sites,
    )


@router.get(
    "/movements",
    response_model=MovementPage,
    tags=["movements"],
    responses=NOT_MODIFIED,
    **permission("movements.read"),
)
async def list_movements(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatch = None,
    sku: Ref | None = None,
    location: Annotated[Ref | None, Query(description="Either side, with subtree")] = None,
    kind: Text64 | None = None,
    agent_id: Text64 | None = None,
    order_ref: Text64 | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Ledger rows, newest first; ``since``/``until`` bound the event time. Without a
    location, someone granted one site sees that site's movements. Answers carry an ETag;
    send it back in If-None-Match for a 304 while nothing changed."""
    location = await location_in_scope(principal, "movements.read", location, reads)
    return await conditional(
        request,
        reads,
        if_none_match,
        principal.sites_for(ACTIONS["movements.read"]),
        feed.ledger_version,
        movement_queries.movements,
        sku=sku,
        location=location,
        kind=kind,
        agent_id=agent_id,
        order_ref=order_ref,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/movements/{movement_id}",
    response_model=MovementOut,
    tags=["movements"],
    **permission("movements.read"),
)
async def get_movement(
    movement_id: Annotated[Id, Path()], reads: ReadsDep, principal: PrincipalDep
) -> Json:
    """One ledger row (of a site one may see: either end of it)."""
    row = await reads.run(movement_queries.movement, movement_id)
    if principal.sites_for(ACTIONS["movements.read"]) is not None:
        ends = [str(row["from_location"]), str(row["to_location"])]
        sites = await reads.run(location_queries.location_sites, ends)
        require_sites(principal, "movements.read", [sites.get(e) for e in ends], every=False)
    return Json(row)


@router.post(
    "/movements",
    status_code=status.HTTP_201_CREATED,
    response_model=MovementOut,
    tags=["movements"],
    **permission("movements.write"),
)
def post_movement(
    body: MovementIn,
    service: ServiceDep,
    db: ReaderDep,
    response: Response,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description=(
                "Retrying with the same key and body returns the first result; "
                "the same key with another body is a 409"
            ),
        ),
    ] = None,
) -> dict[str, object]:
    """Record a manual receipt, transfer or adjustment. Refused if it would oversell. Both
    ends must be at sites where one may post (suppliers, customers and loss belong to none)."""
    ends = [c for c in (body.from_location, body.to_location) if c]
    sites: dict[str, str | None] = {}
    if ends:
        with service.engine.connect() as conn:  # given back before the unit of work takes one
            sites = location_queries.location_sites(conn, ends)
        require_sites(principal, "movements.write", sites.values(), every=True)
    request = MovementRequest(
        kind=body.kind,
        qty=body.qty,
        code=body.code,
        sku=body.sku,
        gtin=body.gtin,
        lot=body.lot,
        serial=body.serial,
        expiry=body.expiry,
        from_location=body.from_location,
        to_location=body.to_location,
        order_ref=body.order_ref,
        unit=body.unit,
    )
    movement_id, replayed = record_movement(
        service.uow(),
        service.catalog,
        ManualMovement(
            request,
            actor=body.actor or principal.name,
            note=body.note,
            occurred_at=body.occurred_at,
            principal=principal.actor,
            site=next((site for site in sites.values() if site), None),
        ),
        datetime.now(UTC),
        idempotency_key,
        service.policy,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return movement_queries.movement(db.conn, movement_id)
