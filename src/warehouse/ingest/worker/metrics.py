"""The ingest worker's Prometheus metrics: events by outcome and reason, batch sizes and times,
and each event's lag."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Counter, Histogram

from warehouse.ingest.service.commands import IngestResult

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
