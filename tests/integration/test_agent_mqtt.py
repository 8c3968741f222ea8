"""The agent against the real Mosquitto and the ingest worker: status, commands, budget."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from tests.helpers import wait_for
from warehouse import contracts
from warehouse.bootstrap import Service
from warehouse.ingest.adapters import queries
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import tables
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = pytest.mark.mosquitto
ITEM = "]C1010590123000100110L1"


def config(tmp_path: Path, site: str, port: int = 1883, **outbox: object) -> AgentConfig:
    return AgentConfig(
        agent_id="dock-7",
        site=site,
        heartbeat_s=1,
        broker={"url": f"mqtt://127.0.0.1:{port}"},
        outbox={"path": tmp_path / "outbox.db", "ack_timeout_s": 2, **outbox},
        stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
        devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
    )


@pytest.fixture
def agent(ingest: object, site: str, tmp_path: Path) -> Iterator[tuple[Agent, VirtualScanner]]:
    scanner = VirtualScanner("scanner-1")
    running = Agent(config(tmp_path, site), drivers={"scanner-1": scanner})
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,), daemon=True)
    thread.start()
    assert running.publisher.connected.wait(10)
    yield running, scanner
    stop.set()
    thread.join(15)


def command(site: str, body: dict[str, object]) -> None:
    message = {
        "v": 1,
        "command_id": str(uuid.uuid4()),
        "issued_at": datetime.now(UTC).isoformat(),
        "body": body,
    }
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.publish(
        contracts.topic(site, "dock-7", "commands"), json.dumps(message), qos=1
    ).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def agent_row(service: Service) -> dict[str, object]:
    with service.engine.connect() as conn:
        rows = [a for a in queries.agents(conn, registered_only=False) if a["agent_id"] == "dock-7"]
    return rows[0] if rows else {}


def test_status_heartbeat_and_acks_reach_the_service(
    seeded: Service, agent: tuple[Agent, VirtualScanner]
) -> None:
    running, scanner = agent
    scanner.inject(ITEM)
    wait_for(lambda: running.outbox.stats().last_acked_seq >= 1)
    assert scanner.feedback_log == ["ok"]
    wait_for(lambda: (agent_row(seeded).get("health") or {}).get("reads", 0) >= 1)
    row = agent_row(seeded)
    assert row["state"] == "online"
    assert row["health"]["devices"]["scanner-1"]["state"] == "up"  # type: ignore[index]


def test_commands_feedback_station_mode_and_resync(
    seeded: Service, ingest: IngestWorker, agent: tuple[Agent, VirtualScanner], site: str
) -> None:
    running, scanner = agent
    for code in (ITEM, "]C1010590123000100110L2"):
        scanner.inject(code)
    wait_for(lambda: running.outbox.stats().last_acked_seq >= 2)

    command(
        site,
        {"type": "feedback", "level": "warn", "text": "check the label", "device": "scanner-1"},
    )
    wait_for(lambda: "warn" in scanner.feedback_log)

    command(site, {"type": "station_mode", "station": "dock", "mode": "lookup"})
    wait_for(lambda: running.states["dock"].mode == "lookup")

    before = ingest.totals.duplicates
    command(site, {"type": "resync", "from_seq": 1})  # both events are sent again ...
    wait_for(lambda: ingest.totals.duplicates >= before + 2)
    with seeded.engine.connect() as conn:  # ... and applied only once
        assert conn.execute(select(func.count()).select_from(tables.movements)).scalar_one() == 2
    wait_for(lambda: running.outbox.stats().pending == 0)


def test_a_killed_agent_shows_offline(
    seeded: Service, ingest: object, site: str, tmp_path: Path
) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(f"""
agent_id = "dock-7"
site = "{site}"
[broker]
url = "mqtt://127.0.0.1:1883"
keepalive_s = 5
[outbox]
path = "{tmp_path / "outbox.db"}"
[[stations]]
name = "dock"
mode = "receiving"
location = "WH1-DOCK-1"
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse_edge.cli", "run", "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: agent_row(seeded).get("state") == "online")
        proc.send_signal(signal.SIGKILL)  # no goodbye: the broker publishes the last will
        proc.wait(10)
        wait_for(lambda: agent_row(seeded).get("state") == "offline", timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_scans_are_refused_past_the_disk_budget(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scanner = VirtualScanner("scanner-1")
    running = Agent(
        config(tmp_path, "FULL", port=1, disk_budget_mb=0.05), drivers={"scanner-1": scanner}
    )
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,), daemon=True)
    caplog.set_level(logging.ERROR, logger="warehouse_edge.agent")
    thread.start()
    try:
        for n in range(400):
            scanner.inject(f"]C1010590123000100110L{n:04d}")
        wait_for(lambda: "error" in scanner.feedback_log)
    finally:
        stop.set()
        thread.join(15)
    accepted = scanner.feedback_log.count("ok")
    assert accepted > 0
    assert "scan REFUSED" in caplog.text
    assert "disk budget" in caplog.text
