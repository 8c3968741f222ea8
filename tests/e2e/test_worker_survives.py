"""`warehouse ingest` as a process: payloads that used to end it with exit code 0 leave it
running, and what it cannot carry on from ends it with exit code 1 and one line saying why."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.e2e.test_worker_crash import start_worker, wait_connected
from tests.helpers import ResendingPublisher, movement_payload
from warehouse.bootstrap import Service
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.stock.adapters import tables as stock_tables

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]


@pytest.mark.parametrize("receiver", ["thread", "process"])
def test_the_payloads_that_ended_the_worker_leave_it_running(
    seeded: Service, site: str, mosquitto: tuple[str, int], tmp_path: Path, receiver: str
) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(seeded.settings.database_url, site, log, receiver)
    publisher = ResendingPublisher(*mosquitto, site, "dock-s", resend_after=2)
    try:
        wait_connected(log, 1)
        time.sleep(0.3)
        deep = b'{"v": 1, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"  # no readable seq
        publisher.client.publish(f"warehouse/v1/{site}/dock-s/events", deep, qos=1)
        bad = [
            movement_payload(site, "dock-s", 1).replace(
                b'"occurred_at": "', b'"occurred_at": "0001-01-01T00:00:00+01:00", "was": "'
            ),
            json.dumps({**json.loads(movement_payload(site, "dock-s", 2)), "boot": 2**63}).encode(),
            json.dumps(
                {
                    **json.loads(movement_payload(site, "dock-s", 3)),
                    "occurred_at": "9999-12-31T23:59:59-01:00",
                }
            ).encode(),
        ]
        for seq, payload in enumerate(bad, start=1):
            publisher.publish(seq, payload)
        publisher.client.publish(
            f"warehouse/v1/{site}/dock-s/status",
            json.dumps({"v": 1, "agent_id": "dock-s", "state": "online"}),
            qos=1,
        ).wait_for_publish(5)
        publisher.publish(4, movement_payload(site, "dock-s", 4))
        assert publisher.wait_all_acked(4, timeout=20), log.read_text(errors="replace")[-3000:]
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    assert worker.returncode == 0
    with seeded.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(stock_tables.movements)).scalar_one() == 1
        )
        reasons = set(conn.execute(select(ingest_tables.rejected_events.c.reason)).scalars())
    assert reasons == {"too_deep", "invalid_message"}


def test_no_schema_is_exit_1_with_one_line_saying_what_to_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", "ingest"],
        env={"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: database sqlite:///")
    assert last.endswith("has no schema yet: run `warehouse db upgrade`")
