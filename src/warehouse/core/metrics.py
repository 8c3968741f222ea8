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

The ingest's are defined in ``warehouse.ingest.worker.metrics``, the open exceptions' gauge in
``warehouse.exceptions.adapters.metrics``, the API's in ``warehouse.core.api.request_metrics``;
the statements' here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import REGISTRY, Histogram, generate_latest
from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


DB_SECONDS = Histogram(
    "warehouse_db_statement_seconds",
    "SQL statement time at the driver",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)


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


_watched: list[Engine] = []


def watch(engine: Engine) -> None:
    """Count the statements ``engine`` runs, and count figures kept in its database (the open
    exceptions) when scraped."""
    instrument_engine(engine)
    _watched[:] = [engine]


def watched() -> Engine | None:
    """The engine :func:`watch` was last given, if any."""
    return _watched[0] if _watched else None


def latest() -> bytes:
    """The text exposition of this process's metrics."""
    return generate_latest(REGISTRY)
