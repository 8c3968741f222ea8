"""The poison an ordinary operator can make: QTY:999999999999 then a GTIN, ten times, at a real
agent with a virtual scanner. The tenth would take the dock past what a balance holds and is
rejected with its reason; another agent's scans flow on meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import wait_for
from warehouse.bootstrap import Service
from warehouse.ingest.adapters import queries
from warehouse.stock.adapters import stock_queries
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
TEA = "5901230001025"  # TEA-GRN


Started = tuple[Agent, VirtualScanner, threading.Event, threading.Thread]


def start(agent_id: str, site: str, workdir: Path) -> Started:
    scanner = VirtualScanner("scanner-1")
    config = AgentConfig(
        agent_id=agent_id,
        site=site,
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1883"},
        outbox={"path": workdir / f"{agent_id}.db", "ack_timeout_s": 3},
        stations=[
            {"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1", "debounce_ms": 0}
        ],
        devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
    )
    agent = Agent(config, drivers={"scanner-1": scanner})
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    assert agent.publisher.connected.wait(10)
    return agent, scanner, stop, thread


@pytest.fixture
def agents(
    ingest: object, site: str, tmp_path: Path
) -> Iterator[list[tuple[Agent, VirtualScanner]]]:
    started = [start("big-dock", site, tmp_path), start("small-dock", site, tmp_path)]
    yield [(a, s) for a, s, _, _ in started]
    for _, _, stop, thread in started:
        stop.set()
        thread.join(15)


def test_the_tenth_huge_receipt_is_rejected_and_the_other_agent_flows(
    seeded: Service, agents: list[tuple[Agent, VirtualScanner]]
) -> None:
    (big, big_scanner), (small, small_scanner) = agents
    for n in range(10):
        big_scanner.inject("QTY:999999999999")
        big_scanner.inject(TEA)
        small_scanner.inject(f"]C1010590123000100110L{n}")
    wait_for(lambda: big.outbox.stats().last_seq == 10 and small.outbox.stats().last_seq == 10)
    wait_for(lambda: big.outbox.stats().pending == 0 and small.outbox.stats().pending == 0, 30)
    with seeded.engine.connect() as conn:
        (rejected,) = queries.rejected_events(
            conn, reason=None, agent_id="big-dock", limit=5, cursor=None
        ).items
        tea = stock_queries.stock_for_sku(conn, "TEA-GRN")["on_hand"]
        coffee = stock_queries.stock_for_sku(conn, "COF-250")["on_hand"]
    assert (rejected["reason"], rejected["seq"]) == ("quantity_out_of_range", 10)
    assert "WH1-DOCK-1" in rejected["detail"]
    assert tea == Decimal(999_999_999_999) * 9
    assert coffee == 10
