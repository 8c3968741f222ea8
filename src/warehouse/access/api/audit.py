"""The audit log: every manual change, who made it and what it changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from warehouse.access.adapters import queries
from warehouse.access.api.schemas import AuditPage
from warehouse.access.api.security import PrincipalDep, permission
from warehouse.access.domain import ACTIONS
from warehouse.core import paging
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Text64, Text128

router = APIRouter()


@router.get("/audit", response_model=AuditPage, tags=["operations"], **permission("audit.read"))
async def audit(
    reads: ReadsDep,
    principal: PrincipalDep,
    actor: Annotated[Text128 | None, Query(description="e.g. user:alice")] = None,
    action: Annotated[Text64 | None, Query(description="e.g. product.update")] = None,
    target: Annotated[Text128 | None, Query(description="e.g. product:TEA-GRN")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> paging.Page:
    """Manual changes, newest first: who, when, what, before and after. A manager of some
    sites sees the entries of those sites; one for every site (``*``) sees all."""
    return await reads.run(
        queries.audit,
        sites=principal.sites_for(ACTIONS["audit.read"]),
        actor=actor,
        action=action,
        target=target,
        limit=limit,
        cursor=cursor,
    )
