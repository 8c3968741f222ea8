"""``warehouse_open_exceptions{kind}``: the open exceptions, counted when scraped in the database
whose engine the process watches (``warehouse.core.metrics.watch``). The API and the
ingest worker :func:`register` it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from warehouse.core import metrics
from warehouse.exceptions.adapters import tables

log = logging.getLogger(__name__)


class OpenExceptions(Collector):
    """``warehouse_open_exceptions{kind}``, counted in the database when scraped."""

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "warehouse_open_exceptions", "Open exceptions in the queue", labels=["kind"]
        )
        engine = metrics.watched()
        if engine is not None:
            fe = tables.floor_exceptions
            try:
                with engine.connect() as conn:
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


_registered: list[OpenExceptions] = []


def register() -> None:
    """Add the gauge to this process's metrics (once)."""
    if not _registered:
        _registered.append(OpenExceptions())
        REGISTRY.register(_registered[0])
