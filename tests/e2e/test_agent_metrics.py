"""The agent as a process with its /metrics on: after a short run through a real broker and
ingest worker, every listed metric is there with the figures of that run."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PrivateBroker
from tests.e2e.test_edge_agent import (
    OK,
    Scanner,
    agent_config,
    pending,
    start_agent,
    stop_agent,
    wait_log,
    worker,
)
from tests.integration.test_broker_acl import free_port
from warehouse.ingest.worker.worker import IngestWorker

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
__all__ = ["worker"]  # the ingest worker fixture of test_edge_agent


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_agents_metrics_after_a_short_run(
    worker: IngestWorker, private_broker: PrivateBroker, site: str, tmp_path: Path
) -> None:
    scanner = Scanner(tmp_path / "usb-Scanner_Co_SC100_77-if00")
    config = agent_config(tmp_path, site, private_broker.port, scanner.link)
    port = free_port()
    config.write_text(config.read_text() + f"\n[metrics]\nport = {port}\n")
    log = tmp_path / "agent.log"
    agent = start_agent(config, log)
    try:
        wait_log(log, "device scanner-1 is up", 1)
        wait_log(log, "connected to the broker", 1)
        wait_log(log, "metrics on http://127.0.0.1:", 1)
        for n in range(1, 6):
            assert scanner.scan(f"]C10105901230001254 21SN{n:05d}".replace(" ", ""), 10) == OK
        deadline = time.monotonic() + 30
        while pending(tmp_path / "outbox.db") and time.monotonic() < deadline:
            time.sleep(0.1)
        found: dict[Any, float] = scrape(port)
    finally:
        stop_agent(agent)
        scanner.close()

    def value(name: str, **labels: str) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    assert value("warehouse_edge_outbox_depth") == 0
    assert value("warehouse_edge_outbox_oldest_age_seconds") == 0
    assert value("warehouse_edge_last_seq") == value("warehouse_edge_last_acked_seq") == 5
    assert value("warehouse_edge_published_total") >= 5
    assert value("warehouse_edge_acks_total") >= 1
    assert value("warehouse_edge_broker_connects_total") == 1
    assert value("warehouse_edge_broker_connected") == 1
    assert value("warehouse_edge_device_up", device="scanner-1", driver="serial") == 1
    assert value("warehouse_edge_device_reads_total", device="scanner-1") == 5
    assert value("warehouse_edge_device_errors_total", device="scanner-1") == 0
    assert value("warehouse_edge_device_reconnects_total", device="scanner-1") == 0
    assert value("warehouse_edge_resent_total") >= 0
    assert value("warehouse_edge_uptime_seconds") > 0
