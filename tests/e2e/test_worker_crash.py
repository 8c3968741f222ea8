"""The ingest worker killed with SIGKILL mid-stream: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import ResendingPublisher, movement_payload
from warehouse.bootstrap import Service
from warehouse.stock.adapters import tables
from warehouse.stock.adapters.projection import differences

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
TOTAL = 2000


def start_worker(
    database_url: str, site: str, log: Path, receiver: str = "thread"
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": database_url,
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_MQTT_SHARE_GROUP": f"crash-{site}",
        "WAREHOUSE_LOG_LEVEL": "INFO",
        "WAREHOUSE_INGEST_RECEIVER": receiver,
        "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",  # the test's agents are made up for it
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "warehouse.cli", "ingest"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_connected(log: Path, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("connected to") >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker did not connect:\n{log.read_text(errors='replace')[-2000:]}")


def receiver_of(worker: subprocess.Popen[bytes], timeout: float = 10) -> int:
    """The pid of the worker's MQTT receiver process (multiprocessing also starts a resource
    tracker, which is not it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = Path(f"/proc/{worker.pid}/task")
        children = [
            int(pid)
            for task in tasks.iterdir()
            for pid in (task / "children").read_text().split()
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        if children:
            assert len(children) == 1, children
            return children[0]
        time.sleep(0.05)
    raise AssertionError("the worker started no receiver process")


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("receiver", ["thread", "process"])
def test_sigkill_mid_stream_loses_and_doubles_nothing(
    seeded: Service, site: str, mosquitto: tuple[str, int], tmp_path: Path, receiver: str
) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(seeded.settings.database_url, site, log, receiver)
    publisher = ResendingPublisher(*mosquitto, site, "dock-1", resend_after=1.5)
    try:
        wait_connected(log, 1)
        time.sleep(0.3)  # its subscription settles
        killed_at = None
        for seq in range(1, TOTAL + 1):
            publisher.publish(seq, movement_payload(site, "dock-1", seq, qty=1))
            if killed_at is None and publisher.acked >= 300:
                child = receiver_of(worker) if receiver == "process" else None
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                killed_at = seq
                if child is not None:
                    # its receiver sees the pipe close and leaves the subscription group
                    deadline = time.monotonic() + 10
                    while running(child) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert not running(child), "the receiver outlived its worker"
                worker = start_worker(seeded.settings.database_url, site, log, receiver)
                wait_connected(log, 2)
            if seq % 100 == 0:
                time.sleep(0.05)
                publisher.resend_due()
        assert killed_at is not None, "the worker was never killed mid-stream"
        assert publisher.wait_all_acked(TOTAL, timeout=120), (
            f"acked {publisher.acked} of {TOTAL}\n{log.read_text(errors='replace')[-3000:]}"
        )
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
    m = tables.movements
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m)).scalar_one() == TOTAL
        assert conn.execute(select(func.count(func.distinct(m.c.event_id)))).scalar_one() == TOTAL
        assert differences(conn) == {}
    assert "ingest worker stopped" in log.read_text(errors="replace")


def test_a_dead_receiver_is_replaced_and_nothing_is_lost(
    seeded: Service, site: str, mosquitto: tuple[str, int], tmp_path: Path
) -> None:
    """With ``ingest_receiver = "process"`` the receiver can die on its own."""
    log = tmp_path / "worker.log"
    worker = start_worker(seeded.settings.database_url, site, log, "process")
    publisher = ResendingPublisher(*mosquitto, site, "dock-2", resend_after=1.5)
    total = 400
    try:
        wait_connected(log, 1)
        time.sleep(0.3)
        for seq in range(1, total + 1):
            publisher.publish(seq, movement_payload(site, "dock-2", seq, qty=1))
            if seq == 150:
                os.kill(receiver_of(worker), signal.SIGKILL)
                wait_connected(log, 2)
            if seq % 50 == 0:
                time.sleep(0.05)
                publisher.resend_due()
        assert publisher.wait_all_acked(total, timeout=60), log.read_text(errors="replace")[-3000:]
        assert worker.poll() is None, "the worker died with its receiver"
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
    text = log.read_text(errors="replace")
    assert "the MQTT receiver ended unexpectedly; starting a new one" in text
    m = tables.movements
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m)).scalar_one() == total
        assert differences(conn) == {}
