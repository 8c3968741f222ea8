"""The FastAPI application factory; its lifespan owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

import warehouse
from warehouse.access.api import audit, auth
from warehouse.access.api.security import check_routes
from warehouse.bootstrap import Service, bootstrap
from warehouse.catalog.api import router as products
from warehouse.core import metrics
from warehouse.core.api import health, problems
from warehouse.core.api.deps import open_reads
from warehouse.core.api.limits import BodyLimit
from warehouse.core.api.replica import ReadYourWrites
from warehouse.core.api.request_metrics import RequestMetrics
from warehouse.core.config import Settings
from warehouse.core.process import freeze_startup_objects
from warehouse.counts.api import router as counts
from warehouse.exceptions.adapters import metrics as exceptions_metrics
from warehouse.exceptions.api import router as exceptions
from warehouse.ingest.api import router as ingest
from warehouse.interop.api import resolver
from warehouse.labels.api import router as labels
from warehouse.orders.api import orders, purchasing, returns, transfers
from warehouse.partners.api import router as partners
from warehouse.pos.api import listings as pos_listings
from warehouse.pos.api import router as pos
from warehouse.reports.api import router as reports
from warehouse.stock.api import locations, stock, stream, units
from warehouse.web.api import errors as web_pages

DESCRIPTION = """
Stock ledger and inventory API. Edge agents publish movements over MQTT (see the contract in
`docs/mqtt-contract.md`); this API queries the projection and ledger and takes manual
receipts, transfers and adjustments. Every error is `application/problem+json` naming the field.
"""


def _middleware(app: FastAPI, settings: Settings) -> None:
    if settings.read_database_url:  # a replica: each client reads its own writes (replica.py)
        app.add_middleware(ReadYourWrites, window_s=settings.read_your_writes_s)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestMetrics)


#: The API's routers, in the order of its documentation.
ROUTERS = (
    products.router,
    partners.router,
    labels.router,
    locations.router,
    stock.router,
    purchasing.router,
    orders.router,
    exceptions.router,
    returns.router,
    counts.router,
    transfers.router,
    pos.router,
    pos_listings.router,
    stream.router,
    reports.router,
    units.router,
    ingest.router,
    audit.router,
    auth.router,
)


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    """Build the API for ``settings`` (or around an existing ``service``, for tests and demo)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = service is None
        app.state.service = service or bootstrap(settings or Settings())
        if app.state.service.tokens is None:
            raise RuntimeError(app.state.service.secret_problem or "no signing secret")
        metrics.watch(app.state.service.engine)
        try:
            async with open_reads(app.state.service) as reads:
                app.state.reads = reads
                if owned:  # a server of its own, not an app inside a test or the demo
                    freeze_startup_objects()
                yield
        finally:
            app.state.reads = None
            hub = getattr(app.state, "stock_hub", None)
            if hub is not None:  # the stream's poller, started by its first subscriber
                await hub.stop()
                app.state.stock_hub = None
            limiter = getattr(app.state, "limiter", None)
            if limiter is not None:  # made by the first request; Redis's pool is this loop's
                await limiter.close()
                app.state.limiter = None
            if owned:
                app.state.service.close()

    # Swagger UI and ReDoc served from the package's own copies, not a CDN: /docs works offline
    app = FastAPIOffline(
        title="warehouse", version=warehouse.__version__, description=DESCRIPTION, lifespan=lifespan
    )
    if service is not None:  # usable without its lifespan (tests drive it in-process)
        app.state.service = service
    problems.install(app)
    _middleware(app, service.settings if service else settings or Settings())
    exceptions_metrics.register()
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1", responses=problems.PROBLEM_RESPONSES)
    app.include_router(health.health)
    # GS1 Digital Link at the root, where the standard puts it (/01/{gtin}, /414/{gln}, ...)
    app.include_router(resolver.router, responses=problems.PROBLEM_RESPONSES)
    web_pages.install(app)
    check_routes(app)
    return app
