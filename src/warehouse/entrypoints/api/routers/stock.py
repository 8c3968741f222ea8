"""Stock levels and the movement ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import AwareDatetime

from warehouse.adapters import queries
from warehouse.entrypoints.api.deps import ReadConn, ServiceDep
from warehouse.entrypoints.api.problems import PROBLEM_RESPONSES
from warehouse.entrypoints.api.schemas import (
    MovementIn,
    MovementOut,
    MovementPage,
    SkuStock,
    StockPage,
)
from warehouse.service_layer.commands import ManualMovement, MovementRequest
from warehouse.service_layer.stock import record_movement

router = APIRouter(responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/stock", response_model=StockPage, tags=["stock"])
def list_stock(
    conn: ReadConn,
    sku: str | None = None,
    gtin: str | None = None,
    location: Annotated[str | None, Query(description="A location and its subtree")] = None,
    lot: str | None = None,
    include_zero: bool = False,
    include_virtual: bool = False,
    limit: Limit = 100,
    cursor: str | None = None,
) -> queries.Page:
    """Stock per product, location and lot; physical locations with stock unless asked."""
    return queries.stock(
        conn,
        sku=sku,
        gtin=gtin,
        location=location,
        lot=lot,
        include_zero=include_zero,
        include_virtual=include_virtual,
        limit=limit,
        cursor=cursor,
    )


@router.get("/stock/{sku}", response_model=SkuStock, tags=["stock"])
def stock_of(sku: str, conn: ReadConn) -> dict[str, object]:
    """One product's totals and its stock per location and lot."""
    return queries.stock_for_sku(conn, sku)


@router.get("/movements", response_model=MovementPage, tags=["movements"])
def list_movements(
    conn: ReadConn,
    sku: str | None = None,
    location: Annotated[str | None, Query(description="Either side, with subtree")] = None,
    kind: str | None = None,
    agent_id: str | None = None,
    order_ref: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> queries.Page:
    """Ledger rows, newest first; ``since``/``until`` bound the event time."""
    return queries.movements(
        conn,
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


@router.get("/movements/{movement_id}", response_model=MovementOut, tags=["movements"])
def get_movement(movement_id: int, conn: ReadConn) -> dict[str, object]:
    """One ledger row."""
    return queries.movement(conn, movement_id)


@router.post(
    "/movements",
    status_code=status.HTTP_201_CREATED,
    response_model=MovementOut,
    tags=["movements"],
)
def post_movement(
    body: MovementIn,
    service: ServiceDep,
    conn: ReadConn,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description=(
                "Retrying with the same key and body returns the first result; "
                "the same key with another body is a 409"
            ),
        ),
    ] = None,
) -> dict[str, object]:
    """Record a manual receipt, transfer or adjustment. Refused if it would oversell."""
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
    )
    movement_id, replayed = record_movement(
        service.uow(),
        service.catalog,
        ManualMovement(request, actor=body.actor, note=body.note, occurred_at=body.occurred_at),
        datetime.now(UTC),
        idempotency_key,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return queries.movement(conn, movement_id)
