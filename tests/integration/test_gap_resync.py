"""Sequence gaps close by themselves: events the broker dropped (published while no ingest
worker held the shared subscription) are asked for again with a resync command; events the agent
no longer has are marked unrecoverable, and the ack moves past them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.helpers import wait_for
from warehouse.bootstrap import Service, bootstrap
from warehouse.exceptions.adapters import tables
from warehouse.ingest.adapters import queries
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import movement_queries
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
SERIAL_GTIN = "05901230001254"


class Workers:
    """Ingest workers the test starts and stops; each joins the test's shared group."""

    def __init__(self, database_url: str, site: str) -> None:
        self.settings = make_settings(
            database_url,
            mqtt_site=site,
            mqtt_share_group=f"gaps-{site}",
            gap_resync_after_s=1,
            gap_resync_every_s=2,
        )
        self.running: list[tuple[IngestWorker, threading.Event, threading.Thread, Service]] = []

    def start(self) -> IngestWorker:
        service = bootstrap(self.settings, catalog_ttl=0)
        worker = IngestWorker(service, client_id=f"gaps-{len(self.running)}-{id(self)}")
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        assert worker.connected.wait(10)
        self.running.append((worker, stop, thread, service))
        return worker

    def stop_all(self) -> None:
        for _, stop, thread, service in self.running:
            stop.set()
            thread.join(15)
            service.close()
        self.running = []


@pytest.fixture
def workers(seeded: Service, mosquitto: tuple[str, int], site: str) -> Iterator[Workers]:
    started = Workers(seeded.settings.database_url, site)
    yield started
    started.stop_all()


@pytest.fixture
def agent(site: str, tmp_path: Path) -> Iterator[tuple[Agent, VirtualScanner]]:
    scanner = VirtualScanner("scanner-1")
    config = AgentConfig(
        agent_id="dock-g",
        site=site,
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1883"},
        # it would re-send on its own only after an hour: the resync must do it
        outbox={"path": tmp_path / "outbox.db", "ack_timeout_s": 3600},
        stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
        devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
    )
    running = Agent(config, drivers={"scanner-1": scanner})
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,), daemon=True)
    thread.start()
    assert running.publisher.connected.wait(10)
    yield running, scanner
    stop.set()
    thread.join(15)


def scan(agent: Agent, scanner: VirtualScanner, numbers: range) -> None:
    for n in numbers:
        scanner.inject(f"]C101{SERIAL_GTIN}21G{n:04d}")
    wait_for(lambda: agent.publisher._highest_sent >= numbers[-1])


def agent_row(service: Service) -> dict[str, Any]:
    with service.engine.connect() as conn:
        return next(
            a for a in queries.agents(conn, registered_only=False) if a["agent_id"] == "dock-g"
        )


def make_gap(agent: Agent, scanner: VirtualScanner, workers: Workers, service: Service) -> None:
    """Seqs 1-3 committed; 4-6 published while no worker is subscribed (dropped by the broker);
    7-9 committed: a gap of 4-6."""
    workers.start()
    scan(agent, scanner, range(1, 4))
    wait_for(lambda: agent.outbox.stats().pending == 0)
    workers.stop_all()
    scan(agent, scanner, range(4, 7))


def test_a_gap_from_dropped_messages_closes_by_itself(
    seeded: Service, workers: Workers, agent: tuple[Agent, VirtualScanner]
) -> None:
    running, scanner = agent
    make_gap(running, scanner, workers, seeded)
    workers.start()
    scan(running, scanner, range(7, 10))
    wait_for(lambda: agent_row(seeded)["max_seq"] == 9)
    wait_for(lambda: agent_row(seeded)["acked_seq"] == 9, timeout=20)
    wait_for(lambda: running.outbox.stats().pending == 0)
    row = agent_row(seeded)
    assert (row["gaps"], row["missing"]) == ([], 0)
    with seeded.engine.connect() as conn:
        assert len(movement_queries.movements(conn, agent_id="dock-g", limit=50).items) == 9
        x = tables.floor_exceptions
        statuses = conn.execute(select(x.c.kind, x.c.status, x.c.resolved_by)).all()
    # asked for it once (an exception), then it was filled (resolved by itself)
    assert [tuple(r) for r in statuses] in ([], [("sequence_gap", "resolved", "system:resync")])


def test_a_gap_the_agent_cannot_fill_is_unrecoverable_and_the_ack_moves_on(
    seeded: Service, workers: Workers, agent: tuple[Agent, VirtualScanner]
) -> None:
    running, scanner = agent
    make_gap(running, scanner, workers, seeded)
    with sqlite3.connect(running.outbox.path) as lost:  # the outbox lost seqs 1-6
        lost.execute("DELETE FROM outbox WHERE seq <= 6")
    workers.start()
    scan(running, scanner, range(7, 10))
    wait_for(lambda: agent_row(seeded)["max_seq"] >= 9)
    wait_for(lambda: any(g["unrecoverable"] for g in agent_row(seeded)["gaps"]), timeout=20)
    wait_for(lambda: running.outbox.stats().pending == 0, timeout=20)
    row = agent_row(seeded)
    (gap,) = row["gaps"]
    assert (gap["first_seq"], gap["last_seq"], gap["unrecoverable"]) == (4, 6, True)
    assert gap["resync_count"] >= 1
    assert row["acked_seq"] == row["max_seq"]  # the heartbeat that told it, and what follows
    assert row["missing"] == 3
    x = tables.floor_exceptions
    with seeded.engine.connect() as conn:
        found = conn.execute(select(x.c.kind, x.c.agent_id, x.c.code)).all()
    assert [tuple(r) for r in found] == [("sequence_gap", "dock-g", "4-6")]  # asked once: one
