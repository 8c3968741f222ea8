"""Shared fixtures: one database per backend per run, real Mosquitto, unique ids.

Tests that need PostgreSQL or Mosquitto skip when it is not running, except under CI=true,
where they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from tests.helpers import admin_headers
from warehouse.bootstrap import Service, bootstrap
from warehouse.core.config import Settings
from warehouse.core.db import create_engine
from warehouse.core.migrate import upgrade

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("WAREHOUSE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
MQTT_HOST = os.environ.get("WAREHOUSE_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("WAREHOUSE_TEST_MQTT_PORT", "1883"))
RUN_ID = uuid.uuid4().hex[:8]
DEMO_CATALOG = Path(str(resources.files("warehouse.demo") / "catalog.yaml"))
TABLES = (
    "stock_changes",
    "valuation_entries",
    "cost_positions",
    "pos_refund_lines",
    "pos_tenders",
    "pos_refunds",
    "pos_sale_taxes",
    "pos_sale_picks",
    "pos_sale_lines",
    "pos_sales",
    "pos_drawer_events",
    "register_sessions",
    "registers",
    "promotions",
    "prices",
    "price_lists",
    "tax_rates",
    "transfer_lines",
    "transfers",
    "count_lines",
    "count_sessions",
    "return_lines",
    "returns",
    "floor_exceptions",
    "package_lines",
    "packages",
    "allocations",
    "sales_order_lines",
    "sales_orders",
    "purchase_order_lines",
    "purchase_orders",
    "supplier_items",
    "partners",
    "sscc_series",
    "audit_log",
    "devices",
    "api_keys",
    "refresh_tokens",
    "user_grants",
    "users",
    "rfid_sweeps",
    "seq_gaps",
    "agents",
    "inbox",
    "rejected_events",
    "idempotency_keys",
    "ledger_archive",
    "movements",
    "stock",
    "lots",
    "serial_units",
    "product_codes",
    "products",
)


def require(service: str, available: bool, why: str) -> None:
    """Skip without the service; under CI=true, fail instead."""
    if available:
        return
    message = f"{service} is not available: {why}"
    if CI:
        pytest.fail(f"{message} (CI=true: services are required)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated, dropped at the end."""
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require("PostgreSQL", False, str(exc).strip())
    name = f"warehouse_test_{RUN_ID}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Every database test runs on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database"))
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'warehouse.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clean_db(engine: Engine, database_url: str) -> str:
    """The database emptied of everything but the built-in virtual locations."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        builtin = "('SUPPLIER', 'CUSTOMER', 'LOSS', 'TRANSIT')"
        conn.execute(
            text(f"DELETE FROM locations WHERE code NOT IN {builtin} AND parent_id IS NOT NULL")
        )
        conn.execute(text(f"DELETE FROM locations WHERE code NOT IN {builtin}"))
    return database_url


def make_settings(database_url: str, **extra: object) -> Settings:
    values = {
        "mqtt_url": f"mqtt://{MQTT_HOST}:{MQTT_PORT}",
        # tests publish as agents made up for them; tests of registration turn this on
        "require_registered_agents": False,
        **extra,
    }
    return Settings(database_url=database_url, **values)  # type: ignore[arg-type]


@pytest.fixture
def service(clean_db: str) -> Iterator[Service]:
    svc = bootstrap(make_settings(clean_db), catalog_ttl=0)
    yield svc
    svc.close()


@pytest.fixture
def seeded(service: Service) -> Service:
    """The service with the demo catalog and location tree loaded."""
    from warehouse.stock.api.seedfile import load
    from warehouse.stock.service.locations import seed

    locations, products = load(DEMO_CATALOG)
    seed(service.uow(), service.parser, locations, products)
    return service


def broker_up(host: str = MQTT_HOST, port: int = MQTT_PORT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def mosquitto() -> tuple[str, int]:
    """The real Mosquitto broker."""
    require("Mosquitto", broker_up(), f"nothing listens on {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT


@pytest.fixture
def site() -> str:
    """A site id no other test or run uses, so topics never collide."""
    return f"T{RUN_ID}{uuid.uuid4().hex[:6]}"


@pytest.fixture
def ingest(
    request: pytest.FixtureRequest, seeded: Service, mosquitto: tuple[str, int], site: str
) -> Iterator[object]:
    """An ingest worker thread on the real broker, subscribed to this test's site only; more
    settings by indirect parametrisation (``{"ingest_threads": 2}``)."""
    from warehouse.ingest.worker.worker import IngestWorker

    settings = make_settings(
        seeded.settings.database_url,
        mqtt_site=site,
        mqtt_share_group=f"test-{site}",
        **getattr(request, "param", {}),
    )
    worker_service = bootstrap(settings, catalog_ttl=0)
    worker = IngestWorker(worker_service, client_id=f"ingest-{site}")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    assert worker.connected.wait(10), "the ingest worker did not connect"
    yield worker
    stop.set()
    thread.join(10)
    worker_service.close()


class PrivateBroker:
    """A Mosquitto of the test's own on a spare loopback port, which the test may stop or kill.
    With ``persistence`` its sessions and queued messages survive a restart (a file in
    ``workdir``); with ``bridge_to`` it bridges every ``warehouse/`` topic both ways to the
    broker on that port (two nodes of one cluster, as devices see it)."""

    def __init__(
        self, workdir: Path, *, persistence: bool = False, bridge_to: int | None = None
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        workdir.mkdir(parents=True, exist_ok=True)
        store = "persistence false\n"
        if persistence:
            workdir.chmod(0o777)  # mosquitto drops to its own user before writing its file
            store = f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n"
        bridge = (
            f"connection node-{bridge_to}\naddress 127.0.0.1:{bridge_to}\n"
            "topic warehouse/# both 1\ncleansession true\ntry_private true\nrestart_timeout 1\n"
            if bridge_to
            else ""
        )
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{store}"
            f"max_queued_messages 100000\n{bridge}"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not broker_up("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "private mosquitto did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: no last save, no goodbye to its clients."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A broker the test can stop and restart (never the shared one)."""
    require("mosquitto", shutil.which("mosquitto") is not None, "the mosquitto binary is missing")
    broker = PrivateBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


class LiveApi:
    """The API served by uvicorn in a thread on a spare loopback port (real concurrency)."""

    def __init__(self, service: Service) -> None:
        import uvicorn

        from warehouse.app import create_app

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = create_app(service=service)
        self.headers = admin_headers(service)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.loop: asyncio.AbstractEventLoop | None = None
        serve = self.server.serve

        async def serve_and_note_the_loop(**kwargs: Any) -> None:
            self.loop = asyncio.get_running_loop()  # tests may run coroutines on it
            await serve(**kwargs)

        self.server.serve = serve_and_note_the_loop  # type: ignore[method-assign]
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveApi:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def live_api(seeded: Service) -> Iterator[LiveApi]:
    with LiveApi(seeded) as api:
        yield api


@pytest.fixture
def broker_dir() -> Iterator[Path]:
    """A directory the mosquitto user can reach (pytest's own temporary directories are its
    owner's only): the broker's config, files and certificates."""
    path = Path(tempfile.mkdtemp(prefix="warehouse-broker-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
