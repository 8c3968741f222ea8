"""PostgreSQL unreachable under a running worker (through a proxy the test cuts): status
messages and events arriving meanwhile end nothing, memory stays within the buffer's bounds,
and everything is applied once the database is back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.helpers import ResendingPublisher, movement_payload, wait_for
from tests.tcp_proxy import TcpProxy
from warehouse import contracts
from warehouse.bootstrap import Service, bootstrap
from warehouse.ingest.adapters import queries
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import tables

pytestmark = [pytest.mark.mosquitto, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def proxied(seeded: Service) -> Iterator[tuple[TcpProxy, str]]:
    url = seeded.settings.database_url
    if not url.startswith("postgresql"):
        pytest.skip("the outage is a PostgreSQL proxy cut (SQLite is a file)")
    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield proxy, url.replace(f":{parts.port or 5432}/", f":{proxy.port}/")
    proxy.close()


@pytest.fixture
def worker(
    proxied: tuple[TcpProxy, str], mosquitto: tuple[str, int], site: str
) -> Iterator[tuple[IngestWorker, threading.Thread, TcpProxy]]:
    proxy, url = proxied
    settings = make_settings(
        url,
        mqtt_site=site,
        mqtt_share_group=f"outage-{site}",
        ingest_buffer_messages=100,
        db_pool_timeout_s=1,
    )
    service = bootstrap(settings, catalog_ttl=0)
    ingest = IngestWorker(service, client_id=f"outage-{site}")
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    assert ingest.connected.wait(10)
    yield ingest, thread, proxy
    stop.set()
    thread.join(15)
    service.close()


def count(service: Service) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.movements)).scalar_one())


def test_status_and_events_while_the_database_is_down(
    seeded: Service,
    worker: tuple[IngestWorker, threading.Thread, TcpProxy],
    site: str,
    mosquitto: tuple[str, int],
) -> None:
    ingest, thread, proxy = worker
    status = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"st-{site}", protocol=5)
    status.connect(*mosquitto)
    status.loop_start()
    pub = ResendingPublisher(*mosquitto, site, "out-1", resend_after=3)
    try:
        pub.publish(1, movement_payload(site, "out-1", 1))
        wait_for(lambda: count(seeded) == 1)
        proxy.cut()
        online = contracts.Status(agent_id="out-1", state="online", at=datetime.now(UTC))
        topic = contracts.topic(site, "out-1", "status")
        status.publish(topic, contracts.encode(online), qos=1, retain=True).wait_for_publish(5)
        for seq in range(2, 301):  # three times the buffer
            pub.publish(seq, movement_payload(site, "out-1", seq))
        wait_for(ingest.waiting_for_database.is_set, timeout=10)
        time.sleep(3)
        assert thread.is_alive()
        assert ingest.fatal is None
        assert ingest.buffer.peak_messages <= 100
        proxy.restore()
        assert pub.wait_all_acked(300, timeout=60)
        assert count(seeded) == 300
        with seeded.engine.connect() as conn:
            (agent,) = queries.agents(conn, registered_only=False)
        assert (agent["state"], agent["acked_seq"]) == ("online", 300)
    finally:
        status.publish(contracts.topic(site, "out-1", "status"), b"", qos=1, retain=True)
        status.disconnect()
        status.loop_stop()
        pub.close()


def test_a_worker_waiting_for_the_database_says_so(
    worker: tuple[IngestWorker, threading.Thread, TcpProxy],
) -> None:
    """While waiting for the database the worker says so, and stops cleanly when asked."""
    ingest, thread, proxy = worker
    proxy.cut()
    payload: Any = json.dumps({"v": 1}).encode()
    ingest.buffer.put_many([("warehouse/v1/x/y/events", payload)])
    wait_for(ingest.waiting_for_database.is_set, timeout=10)
    assert thread.is_alive()
