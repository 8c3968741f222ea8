"""The service's /metrics after a short run, parsed with prometheus-client: events by outcome
and rejection reason, batch sizes and times, ingest lag, statement times, open exceptions and
API requests by route; on the API and on the ingest worker's health endpoint."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import ResendingPublisher, admin_headers, events_topic, movement_payload
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.core.health_http import HealthServer
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate
from warehouse.ingest.worker.worker import IngestWorker

pytestmark = [pytest.mark.mosquitto]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def delta(before: Samples, after: Samples) -> Callable[..., float]:
    def of(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    return of


def test_metrics_after_a_short_run(
    seeded: Service, ingest: IngestWorker, mosquitto: tuple[str, int], site: str
) -> None:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    health = HealthServer("127.0.0.1", 0, ingest.readiness)
    health.start()
    try:
        before = parse(client.get("/metrics").text)
        publisher = ResendingPublisher(*mosquitto, site, "dock-1")
        for seq in range(1, 6):
            publisher.publish(seq, movement_payload(site, "dock-1", seq, qty=seq))
        publisher.publish(6, movement_payload(site, "dock-1", 6, qty=0))  # rejected: qty 0
        assert publisher.wait_all_acked(6, 20)
        publisher.close()
        assert client.get("/api/v1/stock/COF-250").status_code == 200
        answer = client.get("/metrics")
        assert answer.headers["content-type"].startswith("text/plain")
        after = parse(answer.text)
        url = f"http://127.0.0.1:{health.port}"
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as worker_answer:
            worker = parse(worker_answer.read().decode())
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as ready:
            assert ready.status == 200
    finally:
        health.stop()
    d = delta(before, after)
    assert d("warehouse_ingest_events_total", outcome="applied") == 5
    assert d("warehouse_ingest_events_total", outcome="rejected") == 1
    reasons = {
        dict(labels)["reason"]: after[(name, labels)] - before.get((name, labels), 0)
        for (name, labels) in after
        if name == "warehouse_ingest_rejected_total"
    }
    assert sum(reasons.values()) == 1, reasons
    assert d("warehouse_ingest_batch_size_count") >= 1
    assert d("warehouse_ingest_batch_size_sum") == 6
    assert d("warehouse_ingest_batch_seconds_count") >= 1
    assert 0 < d("warehouse_ingest_batch_seconds_sum") < 20
    assert d("warehouse_ingest_lag_seconds_count") == 5  # every event that decoded
    assert 0 <= d("warehouse_ingest_lag_seconds_sum") < 5 * 20
    assert d("warehouse_db_statement_seconds_count") > 5
    stock = {"method": "GET", "route": "/api/v1/stock/{sku}", "status": "200"}
    assert d("warehouse_api_requests_total", **stock) == 1
    assert d("warehouse_api_request_seconds_count", route="/api/v1/stock/{sku}") == 1
    assert worker.keys() >= {k for k in after if k[0].startswith("warehouse_ingest_")}


def test_open_exceptions_are_counted_by_kind(seeded: Service) -> None:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    payload = movement_payload("WH1", "dock-1", 1, code="4006381333931", lot=None)
    item = translate(events_topic("WH1", "dock-1"), payload, 256 * 1024)
    ingest_batch(seeded.uow(), seeded.catalog, [item], datetime.now(UTC))
    found = parse(client.get("/metrics").text)
    assert found[("warehouse_open_exceptions", (("kind", "unknown_code"),))] == 1
