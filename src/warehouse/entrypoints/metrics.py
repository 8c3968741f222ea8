"""The service's Prometheus metrics (prometheus-client), served at ``/metrics`` by the API and
by the ingest worker's health endpoint.

Each process serves its own figures (one scrape target per API process and per worker, which is
how the deploy/server units run them); nothing is shared between processes. What is counted:

| metric | what |
|---|---|
| ``warehouse_ingest_events_total{outcome}`` | events: applied, duplicate, rejected, recorded, … |
| ``warehouse_ingest_rejected_total{reason}`` | rejected events by their reason |
| ``warehouse_ingest_batch_size`` | events per batch (histogram) |
| ``warehouse_ingest_batch_seconds`` | time to decode, apply and commit a batch (histogram) |
| ``warehouse_ingest_lag_seconds`` | commit time - the event's ``occurred_at`` (histogram) |
| ``warehouse_db_statement_seconds`` | every SQL statement's time at the driver (histogram) |
| ``warehouse_open_exceptions{kind}`` | exceptions in the queue still open (read when scraped) |
| ``warehouse_api_requests_total{method,route,status}`` | API requests by route and status |
| ``warehouse_api_request_seconds{route}`` | API request time (histogram) |
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warehouse.adapters import orm
from warehouse.service_layer.commands import IngestResult

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

EVENTS = Counter("warehouse_ingest_events", "Ingested events by outcome", ["outcome"])
REJECTED = Counter("warehouse_ingest_rejected", "Rejected events by reason", ["reason"])
BATCH_SIZE = Histogram(
    "warehouse_ingest_batch_size",
    "Events per ingested batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
)
BATCH_SECONDS = Histogram(
    "warehouse_ingest_batch_seconds",
    "Time to apply and commit a batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG = Histogram(
    "warehouse_ingest_lag_seconds",
    "From an event's occurred_at to the commit that applied it",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
DB_SECONDS = Histogram(
    "warehouse_db_statement_seconds",
    "SQL statement time at the driver",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
REQUESTS = Counter(
    "warehouse_api_requests", "API requests by route and status", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram("warehouse_api_request_seconds", "API request time", ["route"])
_OUTCOMES = {
    "applied": "applied",
    "duplicates": "duplicate",
    "rejected": "rejected",
    "recorded": "recorded",
    "conflicts": "conflict",
    "poison": "poison",
}


def count_batch(
    result: IngestResult, size: int, seconds: float, occurred: Sequence[datetime], now: datetime
) -> None:
    """One ingested batch: its outcomes, size, time and each event's lag."""
    for attr, outcome in _OUTCOMES.items():
        n = getattr(result, attr)
        if n:
            EVENTS.labels(outcome).inc(n)
    for reason, n in result.reasons.items():
        REJECTED.labels(reason).inc(n)
    BATCH_SIZE.observe(size)
    BATCH_SECONDS.observe(seconds)
    for at in occurred:
        LAG.observe(max(0.0, (now - at).total_seconds()))


_instrumented: set[int] = set()


def instrument_engine(engine: Engine) -> None:
    """Time every statement ``engine`` runs (once per engine)."""
    if id(engine) in _instrumented:
        return
    _instrumented.add(id(engine))

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, _cursor: Any, _s: Any, _p: Any, _c: Any, _many: Any) -> None:
        conn.info["metrics_started"] = time.perf_counter()  # one statement at a time

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, _cursor: Any, _s: Any, _p: Any, _c: Any, _many: Any) -> None:
        started = conn.info.pop("metrics_started", None)
        if started is not None:  # a statement that failed left nothing behind either
            DB_SECONDS.observe(time.perf_counter() - started)


class OpenExceptions(Collector):
    """``warehouse_open_exceptions{kind}``, counted in the database when scraped."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "warehouse_open_exceptions", "Open exceptions in the queue", labels=["kind"]
        )
        if self.engine is not None:
            fe = orm.floor_exceptions
            try:
                with self.engine.connect() as conn:
                    rows: Iterable[Any] = conn.execute(
                        select(fe.c.kind, func.count())
                        .where(fe.c.status == "open")
                        .group_by(fe.c.kind)
                    ).all()
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail on the database
                log.warning("metrics: open exceptions not counted: %s", exc)
                rows = []
            for kind, n in rows:
                gauge.add_metric([kind], n)
        yield gauge


_open_exceptions = OpenExceptions()
REGISTRY.register(_open_exceptions)


def watch(engine: Engine) -> None:
    """Count statements on ``engine`` and the open exceptions in its database."""
    instrument_engine(engine)
    _open_exceptions.engine = engine


def latest() -> bytes:
    """The text exposition of this process's metrics."""
    return generate_latest(REGISTRY)


class RequestMetrics:
    """ASGI middleware: every HTTP request counted by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = self._template(scope)
            REQUESTS.labels(scope["method"], path, str(status[0])).inc()
            REQUEST_SECONDS.labels(path).observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The matched route's path template with its router's prefix: FastAPI hands the
        included router's own route, whose path lacks the prefix, which is found once per route
        as the part of the request's path before what the route's pattern matches."""
        route = scope.get("route")
        pattern = getattr(route, "path_regex", None)
        if route is None or pattern is None:
            return "unmatched"
        key = id(route)
        template = self._templates.get(key)
        if template is None:
            path: str = scope["path"]
            cuts = [i for i, ch in enumerate(path) if ch == "/"]
            prefix = next((path[:i] for i in cuts if pattern.match(path[i:])), "")
            template = self._templates[key] = prefix + str(route.path)
        return template
