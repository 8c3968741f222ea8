"""The ingest from NATS JetStream: devices speak MQTT to nats-server, the workers consume the
partitioned stream, share its partitions by leases, and acknowledge after the commit."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings, require
from tests.faults.processes import spare_port
from tests.helpers import ResendingPublisher, movement_payload, wait_for
from tests.nats_cluster import NATS_SERVER, NatsCluster, NatsNode
from tests.tcp_proxy import TcpProxy
from warehouse.bootstrap import Service, bootstrap
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import tables as stock_tables

PARTITIONS = 4


@pytest.fixture
def nats_node(tmp_path: Path) -> Iterator[NatsCluster]:
    require("nats-server", Path(NATS_SERVER).exists(), f"{NATS_SERVER} is missing")
    cluster = NatsCluster(tmp_path, size=1, partitions=PARTITIONS)
    cluster.start()
    yield cluster
    cluster.stop()


class Workers:
    """Ingest workers in threads of this process, each with its own service."""

    def __init__(self, database_url: str, nats_url: str) -> None:
        self.database_url, self.nats_url = database_url, nats_url
        self.running: list[tuple[IngestWorker, threading.Event, threading.Thread, Service]] = []

    def start(self, name: str) -> IngestWorker:
        settings = make_settings(
            self.database_url, nats_url=self.nats_url, nats_partitions=PARTITIONS
        )
        service = bootstrap(settings, catalog_ttl=0)
        worker = IngestWorker(service, client_id=name)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        assert worker.connected.wait(15), f"{name} did not reach NATS"
        self.running.append((worker, stop, thread, service))
        return worker

    def stop(self, worker: IngestWorker) -> None:
        for entry in list(self.running):
            if entry[0] is worker:
                entry[1].set()
                entry[2].join(15)
                entry[3].close()
                self.running.remove(entry)

    def stop_all(self) -> None:
        for entry in list(self.running):
            self.stop(entry[0])


@pytest.fixture
def workers(seeded: Service, nats_node: NatsCluster) -> Iterator[Workers]:
    group = Workers(seeded.settings.database_url, nats_node.url)
    yield group
    group.stop_all()


def held(worker: IngestWorker) -> set[int]:
    leases = getattr(worker.link, "leases", None)
    return set(leases.held) if leases is not None else set()


def counts(service: Service) -> tuple[int, int]:
    with service.engine.connect() as conn:
        inbox = conn.execute(select(func.count()).select_from(ingest_tables.inbox)).scalar_one()
        moves = conn.execute(select(func.count()).select_from(stock_tables.movements)).scalar_one()
    return int(inbox), int(moves)


def test_events_over_mqtt_to_nats_are_applied_once_and_acked(
    seeded: Service, nats_node: NatsCluster, workers: Workers, site: str
) -> None:
    first = workers.start("w1")
    second = workers.start("w2")
    node = nats_node.nodes[0]
    agents = [
        ResendingPublisher("127.0.0.1", node.mqtt_port, site, f"agent{n}", protocol=mqtt.MQTTv311)
        for n in range(3)
    ]
    before = counts(seeded)
    try:
        for seq in range(1, 201):
            for n, agent in enumerate(agents):
                agent.publish(seq, movement_payload(site, f"agent{n}", seq))
        for agent in agents:
            assert agent.wait_all_acked(200, timeout=60), f"{agent.agent} acked {agent.acked}"
        wait_for(lambda: counts(seeded) == (before[0] + 600, before[1] + 600), timeout=20)
        # a re-send is a duplicate, not a second movement
        again = movement_payload(site, "agent0", 201)
        agents[0].publish(201, again)
        assert agents[0].wait_all_acked(201, timeout=20)
        dups = first.totals.duplicates + second.totals.duplicates
        agents[0].publish(201, again)
        wait_for(lambda: first.totals.duplicates + second.totals.duplicates == dups + 1)
        assert counts(seeded) == (before[0] + 601, before[1] + 601)
        # the two workers split the partitions between them, none held twice
        wait_for(lambda: len(held(first)) == len(held(second)) == PARTITIONS // 2, timeout=20)
        assert held(first).isdisjoint(held(second))
    finally:
        for agent in agents:
            agent.close()
    assert first.totals.rejected == second.totals.rejected == 0
    assert first.totals.applied + second.totals.applied == 601  # (each re-send a duplicate)


def test_a_stopped_worker_hands_its_partitions_over(
    seeded: Service, nats_node: NatsCluster, workers: Workers, site: str
) -> None:
    first = workers.start("w1")
    second = workers.start("w2")
    wait_for(lambda: len(held(first)) == len(held(second)) == PARTITIONS // 2, timeout=20)
    workers.stop(first)  # gives its leases back as it stops
    wait_for(lambda: len(held(second)) == PARTITIONS, timeout=10)
    node = nats_node.nodes[0]
    agent = ResendingPublisher("127.0.0.1", node.mqtt_port, site, "solo", protocol=mqtt.MQTTv311)
    try:
        for seq in range(1, 51):
            agent.publish(seq, movement_payload(site, "solo", seq))
        assert agent.wait_all_acked(50, timeout=30)
    finally:
        agent.close()
    assert second.totals.applied == 50


def test_a_store_leaf_node_carries_its_devices_and_waits_out_a_wan_drop(
    seeded: Service, tmp_path: Path, site: str
) -> None:
    """Devices at a store connect to its leaf node; the leaf maps their events onto the
    cluster's stream across one (proxied) WAN link. While the link is cut nothing is acked and
    nothing lost: the agents keep what is unacknowledged and send it again."""
    require("nats-server", Path(NATS_SERVER).exists(), f"{NATS_SERVER} is missing")
    hub = NatsCluster(tmp_path / "hub", size=1, partitions=PARTITIONS)
    hub_node = hub.nodes[0]
    leaf_port = spare_port()
    hub_node.write(
        [], PARTITIONS, None, f"leafnodes {{ listen: 127.0.0.1:{leaf_port} }}\n", domain="hub"
    )
    wan = TcpProxy(("127.0.0.1", leaf_port))
    store = NatsNode(tmp_path, "store")
    store.write(
        [], PARTITIONS, None,
        f'leafnodes {{ remotes: [ {{ url: "nats-leaf://127.0.0.1:{wan.port}" }} ] }}\n',
        domain="store",
    )  # fmt: skip
    hub.start()
    store.start()
    group = Workers(seeded.settings.database_url, hub.url)
    agent: ResendingPublisher | None = None
    try:
        group.start("w1")
        wait_for(lambda: _leaf_connected(store), timeout=20)
        agent = ResendingPublisher(
            "127.0.0.1", store.mqtt_port, site, "till", protocol=mqtt.MQTTv311
        )
        for seq in range(1, 51):
            agent.publish(seq, movement_payload(site, "till", seq))
        assert agent.wait_all_acked(50, timeout=30)
        wan.cut(reset=True)  # the WAN drops; the store's devices stay connected to the leaf
        for seq in range(51, 101):
            agent.publish(seq, movement_payload(site, "till", seq))
        time.sleep(3)
        assert agent.acked == 50
        wan.restore()
        assert agent.wait_all_acked(100, timeout=60), f"acked {agent.acked}"
        assert counts(seeded)[0] >= 100
        with seeded.engine.connect() as conn:
            moved = conn.execute(
                select(func.count())
                .select_from(stock_tables.movements)
                .where(stock_tables.movements.c.agent_id == "till")
            ).scalar_one()
        assert moved == 100
    finally:
        if agent is not None:
            agent.close()
        group.stop_all()
        store.stop()
        wan.close()
        hub.stop()


def _leaf_connected(node: NatsNode) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}/leafz", timeout=1) as r:
            return bool(json.load(r).get("leafnodes"))
    except OSError:
        return False
