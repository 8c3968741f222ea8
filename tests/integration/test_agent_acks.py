"""Forged and stale acks: an agent believes an ack only up to the highest seq it has published,
so a retained ack of 2^63-1 drops nothing, and every pending scan still reaches the ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.helpers import wait_for
from warehouse import contracts
from warehouse.bootstrap import Service, bootstrap
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import tables
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
SERIAL_GTIN = "05901230001254"  # HDP-BT, serial-tracked: every code is distinct
SCANS = 200


@pytest.fixture
def broker_client(mosquitto: tuple[str, int]) -> Iterator[mqtt.Client]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(*mosquitto)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def forge(client: mqtt.Client, site: str, agent: str, seq: int, *, retain: bool) -> None:
    ack = contracts.Ack(agent_id=agent, seq=seq, committed_at=datetime.now(UTC))
    topic = contracts.topic(site, agent, "acks")
    client.publish(topic, contracts.encode(ack), qos=1, retain=retain).wait_for_publish(5)


def ledger_rows(service: Service) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.movements)).scalar_one())


def test_forged_acks_above_what_was_published_drop_nothing(
    seeded: Service, site: str, tmp_path: Path, broker_client: mqtt.Client
) -> None:
    forge(broker_client, site, "dock-f", 2**63 - 1, retain=True)  # waiting before it connects
    scanner = VirtualScanner("scanner-1")
    config = AgentConfig(
        agent_id="dock-f",
        site=site,
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1883"},
        outbox={"path": tmp_path / "outbox.db", "ack_timeout_s": 2},
        stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
        devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
    )
    agent = Agent(config, drivers={"scanner-1": scanner})
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    worker_stop = threading.Event()
    worker_thread: threading.Thread | None = None
    worker_service = bootstrap(
        make_settings(
            seeded.settings.database_url, mqtt_site=site, mqtt_share_group=f"acks-{site}"
        ),
        catalog_ttl=0,
    )
    try:
        assert agent.publisher.connected.wait(10)
        for n in range(SCANS):
            scanner.inject(f"]C101{SERIAL_GTIN}21SN{n:06d}")
        wait_for(lambda: agent.outbox.stats().last_seq == SCANS)
        wait_for(lambda: agent.publisher._highest_sent == SCANS)
        forge(broker_client, site, "dock-f", 2**63 - 1, retain=False)
        forge(broker_client, site, "dock-f", SCANS + 1, retain=False)
        wait_for(lambda: agent.publisher.ignored_acks >= 3)
        assert agent.outbox.stats().pending == SCANS  # no ingest worker yet: nothing is acked
        worker = IngestWorker(worker_service, client_id=f"acks-{site}")
        worker_thread = threading.Thread(target=worker.run, args=(worker_stop,), daemon=True)
        worker_thread.start()
        wait_for(lambda: agent.outbox.stats().pending == 0, timeout=60)
        assert ledger_rows(seeded) == SCANS
    finally:
        broker_client.publish(contracts.topic(site, "dock-f", "acks"), b"", qos=1, retain=True)
        worker_stop.set()
        stop.set()
        thread.join(15)
        if worker_thread is not None:
            worker_thread.join(15)
        worker_service.close()
