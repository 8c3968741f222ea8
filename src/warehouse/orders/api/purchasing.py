"""Replenishment into purchase orders: drafts from the reorder proposal (one per supplier), and
their confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from warehouse.access.api.security import PrincipalDep, permission, require_sites
from warehouse.core.api.params import Code, OrderRef, RequestBody
from warehouse.core.api.responses import Json
from warehouse.orders.adapters import queries, replenishment
from warehouse.orders.api.deps import ServiceDep
from warehouse.orders.api.schemas import PurchaseOrderOut
from warehouse.orders.service import purchasing
from warehouse.orders.service.purchasing import Proposal

router = APIRouter()
Days = Annotated[int, Field(ge=0, le=365)]


class DraftsIn(RequestBody):
    """The site to replenish, and the reorder report's parameters."""

    site: Code
    window_days: Annotated[int, Field(ge=1, le=365, description="Sales velocity window")] = 28
    cover_days: Annotated[Days, Field(description="Cover after the lead time")] = 14
    lead_days: Annotated[Days, Field(description="For suppliers with no lead time known")] = 7


class DraftsOut(BaseModel):
    drafts: list[PurchaseOrderOut]
    unsourced: list[str] = Field(description="SKUs to order that no supplier is known to sell")


@router.post(
    "/purchase-orders/drafts",
    status_code=status.HTTP_201_CREATED,
    response_model=DraftsOut,
    tags=["purchase orders"],
    **permission("purchase_orders.write"),
)
def draft_purchase_orders(body: DraftsIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Turn the reorder proposal (GET /reports/reorder) into draft purchase orders, one per
    supplier, at the suggested quantities and the suppliers' last costs. Drafts take no
    receipts until confirmed, and count as on order, so asking again does not order twice."""
    require_sites(principal, "purchase_orders.write", [body.site], every=True)
    now = datetime.now(UTC)
    with service.engine.connect() as conn:
        rows = replenishment.reorder(
            conn, body.site, now=now, window_days=body.window_days,
            cover_days=body.cover_days, default_lead_days=body.lead_days,
        )  # fmt: skip
    proposals = [
        Proposal(r["sku"], r["supplier_code"], r["suggested_qty"], r["unit_cost_minor"])
        for r in rows
        if r["supplier_code"]
    ]
    refs = purchasing.draft_orders(
        service.uow(), body.site, proposals, principal.actor, now, service.settings.currency
    )
    with service.engine.connect() as conn:
        drafts: list[Any] = [queries.purchase_order(conn, ref) for ref in refs]
    unsourced = [r["sku"] for r in rows if not r["supplier_code"]]
    return Json({"drafts": drafts, "unsourced": unsourced}, status_code=201)


@router.post(
    "/purchase-orders/{ref}/confirm",
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    **permission("purchase_orders.write"),
)
def confirm_purchase_order(
    ref: Annotated[OrderRef, Path()], service: ServiceDep, principal: PrincipalDep
) -> Json:
    """A draft becomes an open order: dock scans count against it from now on."""
    with service.engine.connect() as conn:
        site = queries.order_site(conn, "purchase", ref)
    require_sites(principal, "purchase_orders.write", [site], every=True)
    purchasing.confirm_purchase_order(service.uow(), ref, principal.actor, datetime.now(UTC))
    with service.engine.connect() as conn:
        return Json(queries.purchase_order(conn, ref))
