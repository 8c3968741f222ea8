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
from warehouse.adapters import orm
from warehouse.adapters.projection import differences
from warehouse.bootstrap import Service

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
TOTAL = 2000


def start_worker(database_url: str, site: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": database_url,
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_MQTT_SHARE_GROUP": f"crash-{site}",
        "WAREHOUSE_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "warehouse.entrypoints.cli", "ingest"],
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


def test_sigkill_mid_stream_loses_and_doubles_nothing(
    seeded: Service, site: str, mosquitto: tuple[str, int], tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(seeded.settings.database_url, site, log)
    publisher = ResendingPublisher(*mosquitto, site, "dock-1", resend_after=1.5)
    try:
        wait_connected(log, 1)
        time.sleep(0.3)  # its subscription settles
        killed_at = None
        for seq in range(1, TOTAL + 1):
            publisher.publish(seq, movement_payload(site, "dock-1", seq, qty=1))
            if killed_at is None and publisher.acked >= 300:
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                killed_at = seq
                worker = start_worker(seeded.settings.database_url, site, log)
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
    m = orm.movements
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m)).scalar_one() == TOTAL
        assert conn.execute(select(func.count(func.distinct(m.c.event_id)))).scalar_one() == TOTAL
        assert differences(conn) == {}
    assert "ingest worker stopped" in log.read_text(errors="replace")
