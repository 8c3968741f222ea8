"""What operations people watch: rejected events and agents."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.access.domain import ACTIONS
from warehouse.core import paging
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Text64
from warehouse.ingest.adapters import queries
from warehouse.ingest.api.schemas import AgentOut, RejectedPage

router = APIRouter()


service_log = logging.getLogger(__name__)


@router.get(
    "/events/rejected",
    response_model=RejectedPage,
    tags=["operations"],
    **permission("rejections.read"),
)
async def rejected(
    reads: ReadsDep,
    reason: Annotated[Text64 | None, Query(description="e.g. unknown_product")] = None,
    agent_id: Text64 | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> paging.Page:
    """Events the ingest worker refused, newest first, with the reason and raw payload (and,
    for a conflicting duplicate, the first body)."""
    return await reads.run(
        queries.rejected_events, reason=reason, agent_id=agent_id, limit=limit, cursor=cursor
    )


@router.get(
    "/agents", response_model=list[AgentOut], tags=["operations"], **permission("operations.read")
)
async def list_agents(reads: ReadsDep, principal: PrincipalDep) -> list[dict[str, object]]:
    """Registered edge agents (at the sites one may see) that have connected: last seen, last
    contiguous seq, open sequence gaps, last heartbeat."""
    return await reads.run(queries.agents, principal.sites_for(ACTIONS["operations.read"]))
