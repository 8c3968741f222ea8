"""What operations people watch: rejected events, agents, health."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from warehouse.adapters import queries
from warehouse.domain.access import ACTIONS
from warehouse.entrypoints import metrics
from warehouse.entrypoints.api.deps import ReadsDep, ServiceDep
from warehouse.entrypoints.api.params import Text64, Text128
from warehouse.entrypoints.api.schemas import AgentOut, AuditPage, RejectedPage
from warehouse.entrypoints.api.security import PrincipalDep, permission, public
from warehouse.entrypoints.readiness import database_ready

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
) -> queries.Page:
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


@router.get("/audit", response_model=AuditPage, tags=["operations"], **permission("audit.read"))
async def audit(
    reads: ReadsDep,
    principal: PrincipalDep,
    actor: Annotated[Text128 | None, Query(description="e.g. user:alice")] = None,
    action: Annotated[Text64 | None, Query(description="e.g. product.update")] = None,
    target: Annotated[Text128 | None, Query(description="e.g. product:TEA-GRN")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> queries.Page:
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


health = APIRouter()


@health.get("/healthz", tags=["operations"], **public())
def healthz(service: ServiceDep) -> JSONResponse:
    """200 when the database answers, 503 when it does not (details are in the server's log)."""
    try:
        with service.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; report it, do not raise
        service_log.warning("health check: the database did not answer: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@health.get(
    "/metrics",
    tags=["operations"],
    response_class=Response,
    responses={200: {"content": {metrics.CONTENT_TYPE: {}}, "description": "Prometheus text"}},
    **public(),
)
def prometheus_metrics(service: ServiceDep) -> Response:
    """This process's Prometheus metrics (docs/operations.md lists them). Public like the
    probes: keep it to the monitoring network at the proxy (deploy/server/nginx.conf does)."""
    metrics.watch(service.engine)
    return Response(metrics.latest(), media_type=metrics.CONTENT_TYPE)


@health.get("/readyz", tags=["operations"], **public())
def readyz(service: ServiceDep) -> JSONResponse:
    """200 when the database answers and its schema is this version's; 503 otherwise."""
    ready, details = database_ready(service)
    return JSONResponse({"ready": ready, **details}, status_code=200 if ready else 503)
