"""Health: liveness, readiness and the metrics of this process (public; the proxy keeps
``/metrics`` to the monitoring network); and ``/``, which says where everything is."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from warehouse import __version__
from warehouse.core import metrics
from warehouse.core.api.deps import get_service
from warehouse.core.api.permissions import public
from warehouse.core.readiness import database_ready
from warehouse.core.wiring import Wiring

service_log = logging.getLogger(__name__)
ServiceDep = Annotated[Wiring[object], Depends(get_service)]


health = APIRouter()


def landing_document() -> dict[str, str]:
    """Where things are: the API, its documentation and the health routes (``GET /`` for a
    client that does not ask for HTML; a browser gets the dashboard's sign-in there)."""
    return {
        "name": "warehouse",
        "version": __version__,
        "api": "/api/v1",
        "dashboard": "/ (in a browser)",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/healthz",
        "ready": "/readyz",
        "metrics": "/metrics",
        "sign_in": "POST /api/v1/auth/login",
    }


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
