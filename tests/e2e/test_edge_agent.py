"""The edge agent as a process: a pty scanner, the real broker stopped mid-run, SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PrivateBroker, make_settings
from warehouse.bootstrap import Service, bootstrap
from warehouse.ingest.adapters import queries
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.adapters import tables

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
OK, ERROR = b"\x06", b"\x15"
SERIAL_GTIN = "05901230001254"  # HDP-BT in the demo catalog, serial-tracked


@pytest.fixture
def worker(seeded: Service, private_broker: PrivateBroker, site: str) -> Iterator[IngestWorker]:
    settings = make_settings(
        seeded.settings.database_url,
        mqtt_site=site,
        mqtt_url=f"mqtt://127.0.0.1:{private_broker.port}",
        mqtt_share_group=f"edge-{site}",
    )
    service = bootstrap(settings, catalog_ttl=0)
    ingest = IngestWorker(service, client_id=f"ingest-{site}", reconnect_delay=(0.2, 1))
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    assert ingest.connected.wait(10)
    yield ingest
    stop.set()
    thread.join(10)
    service.close()


class Scanner:
    """The test's side of a pty: a serial scanner that beeps when the host says so."""

    def __init__(self, link: Path) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        self.link = link
        link.symlink_to(os.ttyname(slave))  # like /dev/serial/by-id/...
        os.close(slave)

    def scan(self, code: str, timeout: float) -> bytes:
        os.write(self.master, code.encode() + b"\r\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = os.read(self.master, 1)
            except OSError:  # nothing yet, or EIO while no process has the pty open
                reply = b""
            if reply:
                return reply
            time.sleep(0.005)
        return b""

    def close(self) -> None:
        os.close(self.master)


def agent_config(tmp_path: Path, site: str, broker_port: int, port: Path) -> Path:
    config = tmp_path / "agent.toml"
    config.write_text(f"""
agent_id = "dock-door-1"
site = "{site}"
heartbeat_s = 3600

[broker]
url = "mqtt://127.0.0.1:{broker_port}"

[outbox]
path = "{tmp_path / "outbox.db"}"
ack_timeout_s = 3

[[stations]]
name = "dock-1"
mode = "receiving"
location = "WH1-DOCK-1"

[[devices]]
name = "scanner-1"
driver = "serial"
station = "dock-1"
params = {{ port = "{port}", terminator = "CRLF", feedback = {{ ok = "06", error = "15" }} }}
""")
    return config


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "warehouse_edge.cli", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_agent(agent: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as systemd stops it; killed if it has not ended in 15 s."""
    agent.send_signal(signal.SIGTERM)
    try:
        agent.wait(15)
    except subprocess.TimeoutExpired:
        agent.kill()


def wait_log(log: Path, text: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, f"no {text!r} in:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def movements(service: Service) -> tuple[int, int]:
    m = tables.movements
    with service.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(m)).scalar_one(),
            conn.execute(select(func.count(func.distinct(m.c.serial)))).scalar_one(),
        )


def test_200_scans_through_a_broker_outage_and_a_sigkill(
    seeded: Service, worker: IngestWorker, private_broker: PrivateBroker, site: str, tmp_path: Path
) -> None:
    scanner = Scanner(tmp_path / "usb-Scanner_Co_SC100_1234-if00")
    config = agent_config(tmp_path, site, private_broker.port, scanner.link)
    log = tmp_path / "agent.log"
    agent = start_agent(config, log)
    try:
        wait_log(log, "device scanner-1 is up", 1)
        wait_log(log, "connected to the broker", 1)
        for n in range(1, 201):
            if n == 51:
                private_broker.stop()  # the outbox must hold everything from here
            if n == 91:
                agent.send_signal(signal.SIGKILL)
                agent.wait(10)
                agent = start_agent(config, log)
                wait_log(log, "device scanner-1 is up", 2)
            if n == 131:
                private_broker.start()
            assert scanner.scan(f"]C101{SERIAL_GTIN}21SN{n:05d}", timeout=10) == OK, n
        assert scanner.scan("5901230001002", timeout=5) == ERROR  # bad check digit: refused

        deadline = time.monotonic() + 60
        while movements(seeded)[0] < 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while pending(tmp_path / "outbox.db") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_agent(agent)
        scanner.close()
    assert movements(seeded) == (200, 200), log.read_text()[-3000:]
    assert pending(tmp_path / "outbox.db") == 0
    with seeded.engine.connect() as conn:
        (state,) = [
            a for a in queries.agents(conn, registered_only=False) if a["agent_id"] == "dock-door-1"
        ]
    assert (state["acked_seq"], state["gaps"]) == (200, [])
    with sqlite3.connect(tmp_path / "outbox.db") as db:  # two processes, each connected once
        assert db.execute("SELECT value FROM meta WHERE key = 'boot'").fetchone()[0] == 2
    assert "agent stopped" in log.read_text()


def pending(outbox: Path) -> int:
    with sqlite3.connect(outbox) as db:
        return int(db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0])
