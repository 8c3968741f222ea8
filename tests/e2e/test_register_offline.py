"""An edge register sells through an outage: the price book fetched from the API at start, then
the broker, the ingest and the API all away, the agent restarted halfway on its book on disk;
a cashier session opened and 30 sales rung up from a serial scanner and printed on a network
(raw port 9100) ESC/POS printer. When the broker and the service are back every sale is recorded
once, the stock is right, the 30 receipts carry the numbers 1 to 30, and the register's session's
Z report adds up to the sales."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import LiveApi, PrivateBroker, make_settings
from tests.e2e.test_edge_agent import OK, Scanner, pending, start_agent, stop_agent, wait_log
from tests.helpers import admin_headers
from tests.integration.pos_fixtures import ok, open_store
from warehouse.access.domain import Grant, Role
from warehouse.access.service import accounts as access
from warehouse.app import create_app
from warehouse.bootstrap import Service, bootstrap
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.pos.adapters import tables

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
GTINS = {"TEA-GRN": "5901230001025", "TEA-BLK": "5901230001032", "WTR-6": "5901230001070"}
SKUS = list(GTINS)
KICK = b"\x1bp"  # ESC p: the drawer's pulse


class NetworkPrinter:
    """A raw-9100 receipt printer on loopback: each connection's bytes are one job (the driver
    opens and closes one connection first to see that the printer is there)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                if chunks:  # like a real one, it prints nothing for a connection that sends none
                    self.jobs.append(b"".join(chunks))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()


class Worker:
    """The ingest worker in a thread, stoppable and startable again."""

    def __init__(self, service: Service, port: int) -> None:
        settings = make_settings(
            service.settings.database_url,
            mqtt_site="ST1",
            mqtt_url=f"mqtt://127.0.0.1:{port}",
            mqtt_share_group="till-test",
        )
        self.service = bootstrap(settings, catalog_ttl=0)
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()

    def start(self) -> None:
        self.stop_event = threading.Event()
        ingest = IngestWorker(self.service, client_id="ingest-till", reconnect_delay=(0.2, 1))
        self.thread = threading.Thread(target=ingest.run, args=(self.stop_event,), daemon=True)
        self.thread.start()
        assert ingest.connected.wait(10)

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(10)

    def close(self) -> None:
        self.stop()
        self.service.close()


@pytest.fixture
def printer() -> Iterator[NetworkPrinter]:
    p = NetworkPrinter()
    yield p
    p.close()


def config(tmp_path: Path, broker: int, api: str, key: str, port: Path, printer: int) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(f"""
agent_id = "till-1"
site = "ST1"
heartbeat_s = 3600

[broker]
url = "mqtt://127.0.0.1:{broker}"

[outbox]
path = "{tmp_path / "outbox.db"}"
ack_timeout_s = 3

[api]
url = "{api}"
key = "{key}"
timeout_s = 2

[[stations]]
name = "till"
mode = "pos"
location = "ST1-REG1"
cashier = "ann"

[[devices]]
name = "scanner-1"
driver = "serial"
station = "till"
params = {{ port = "{port}", terminator = "CRLF", feedback = {{ ok = "06", error = "15" }} }}

[[printers]]
name = "printer-1"
station = "till"
params = {{ connection = "network", host = "127.0.0.1", port = {printer}, timeout_s = 2 }}
""")
    return path


def test_thirty_sales_through_an_outage_recorded_once_printed_gapless_and_in_the_z_report(
    seeded: Service, private_broker: PrivateBroker, printer: NetworkPrinter, tmp_path: Path
) -> None:
    api = LiveApi(seeded).__enter__()
    with httpx2.Client(base_url=api.base, headers=api.headers, timeout=20) as client:
        session = open_store(client)  # type: ignore[arg-type]
    _, key = access.create_api_key(
        seeded.uow,
        seeded.credentials,
        "till-1",
        (Grant(Role.CASHIER, "ST1"),),
        None,
        "test",
        datetime.now(UTC),
    )
    worker = Worker(seeded, private_broker.port)
    worker.start()
    scanner = Scanner(tmp_path / "usb-Honeywell_1900-if00")
    path = config(tmp_path, private_broker.port, api.base, key, scanner.link, printer.port)
    log = tmp_path / "agent.log"
    agent = start_agent(path, log)
    try:
        wait_log(log, "connected to the broker", 1)
        wait_log(log, "in use (", 1)  # the price book, fetched from the API
        worker.stop()  # the service goes ...
        private_broker.stop()  # ... and the broker
        api.__exit__()  # ... and the API
        assert scanner.scan("OPEN:100.00", timeout=10) == OK, log.read_text()[-2000:]
        for n in range(30):
            if n == 15:  # restarted with nothing reachable: it sells from its book on disk
                agent.send_signal(signal.SIGTERM)
                agent.wait(15)
                agent = start_agent(path, log)
                wait_log(log, "loaded from", 1)
                wait_log(log, "device scanner-1 is up", 2)
            assert scanner.scan(GTINS[SKUS[n % 3]], timeout=10) == OK, (n, log.read_text()[-2000:])
            pay = "PAY:CARD" if n % 4 == 3 else "PAY:CASH:10.00"
            assert scanner.scan(pay, timeout=10) == OK, (n, log.read_text()[-2000:])
        assert len(printer.jobs) == 31  # the opening's slip and the receipts, all else away
        private_broker.start()
        worker.start()
        deadline = time.monotonic() + 60
        while pending(tmp_path / "outbox.db") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pending(tmp_path / "outbox.db") == 0, log.read_text()[-3000:]
    finally:
        stop_agent(agent)
        scanner.close()
        worker.close()
    S = tables.pos_sales
    with seeded.engine.connect() as conn:
        sales = conn.execute(select(S.c.receipt_no, S.c.total_minor).order_by(S.c.receipt_no)).all()
    assert [r.receipt_no for r in sales] == list(range(1, 31))  # once each, gapless
    receipts = [job for job in printer.jobs if b"No. " in job]
    numbers = [int(re.search(rb"No\. (\d+)", job).group(1)) for job in receipts]  # type: ignore[union-attr]
    assert numbers == list(range(1, 31))
    cash = [n for n in range(30) if n % 4 != 3]
    assert sum(job.count(KICK) for job in printer.jobs) == len(cash) + 1  # and the opening
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 31  # and the opening
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    for sku in SKUS:
        rows = client.get(f"/api/v1/stock/{sku}").json()["locations"]
        assert next(r["on_hand"] for r in rows if r["location"] == "ST1-REG1") == "10"
    edge = ok(client.get("/api/v1/pos/sessions", params={"status": "open"}), 200)["items"]
    (till_session,) = [x["session_id"] for x in edge if x["source"] == "edge"]
    assert ok(client.get(f"/api/v1/pos/sessions/{session}"), 200)["sales"] == 0
    session = till_session  # the sales are the register's own session's
    x = ok(client.get(f"/api/v1/pos/sessions/{session}"), 200)
    assert x["float_minor"] == 10000
    z = ok(
        client.post(
            f"/api/v1/pos/sessions/{session}/close",
            json={"counted_minor": x["cash_expected_minor"]},
        ),
        200,
    )
    total = sum(r.total_minor for r in sales)
    assert (z["kind"], z["sales"], z["sales_minor"]) == ("Z", 30, total)
    assert sum(z["tenders"].values()) == total + z["rounding_minor"]  # cash to 0.05
    assert z["rounding_minor"] != 0
    assert z["cash_difference_minor"] == 0
