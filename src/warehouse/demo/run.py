"""``warehouse demo``: SQLite, an in-process broker, the ingest worker, the API and three real
edge agents whose virtual scanners are fed by a simulated floor, in one process, on a machine
with nothing else running."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click
import uvicorn

from warehouse.access.service import accounts as access
from warehouse.access.service import devices
from warehouse.app import create_app
from warehouse.bootstrap import Service, bootstrap
from warehouse.catalog.domain import Product
from warehouse.core.config import Settings
from warehouse.core.embedded_broker import EmbeddedBroker
from warehouse.core.migrate import upgrade
from warehouse.demo import store
from warehouse.demo.floor import Floor, agent_configs
from warehouse.ingest.worker.worker import IngestWorker
from warehouse.stock.api.seedfile import load
from warehouse.stock.service.locations import seed
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

log = logging.getLogger(__name__)


def free_port(preferred: int) -> int:
    """``preferred`` if it can be bound on 127.0.0.1, else raise; 0 picks any free port. The
    probe binds the way the broker and the API server will (SO_REUSEADDR), so a port that only
    holds connections in TIME_WAIT from the last run is free, and one with a listener is not."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError as exc:
            raise click.ClickException(
                f"port {preferred} is in use on 127.0.0.1; pass another with --port "
                "or --mqtt-port (0 picks a free one)"
            ) from exc
        return int(sock.getsockname()[1])


def _thread(name: str, target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def run_demo(
    workdir: Path,
    *,
    api_port: int,
    mqtt_port: int,
    rate: float,
    duration: float,
    stop: threading.Event,
    fresh: bool = False,
) -> None:
    """Run the demo until ``stop`` is set (Ctrl-C) or ``duration`` seconds have passed."""
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    api_port, mqtt_port = free_port(api_port), free_port(mqtt_port)
    _earlier_runs(workdir, fresh)
    service, products = _database(workdir, api_port, mqtt_port)
    store.open_store(service, _now())
    configs = agent_configs(workdir, service.settings.mqtt_url)
    # and the device the README's tour publishes as with mosquitto_pub
    registered = [(c.agent_id, c.site) for c in configs] + [(TOUR_AGENT, "WH1")]
    password, token = demo_access(service, registered)

    broker = EmbeddedBroker(port=mqtt_port)
    broker.start()
    worker = IngestWorker(service, client_id="demo-ingest")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service=service),
            host="127.0.0.1",
            port=api_port,
            log_level="warning",
            proxy_headers=False,
        )
    )
    agents, floor = _floor(service, configs, products, rate)
    threads = [_thread("ingest", worker.run, stop), _thread("api", server.run)]
    if not worker.connected.wait(10):
        log.warning("the ingest worker has not connected to the embedded broker yet")
    threads += [_thread(f"agent-{a.config.agent_id}", a.run, stop) for a in agents]
    threads.append(_thread("floor", floor.run, stop))
    _banner(api_port, mqtt_port, password, token, workdir)
    try:
        _report(service, worker, agents, floor, duration, stop)
    finally:
        stop.set()
        server.should_exit = True
        for thread in threads:
            thread.join(10)
        broker.stop()
        service.close()
        click.echo("demo stopped")


def _floor(
    service: Service, configs: list[AgentConfig], products: list[Product], rate: float
) -> tuple[list[Agent], Floor]:
    """The edge agents on virtual scanners, and the simulated floor that scans into them."""
    scanners: dict[str, VirtualScanner] = {}
    agents = []
    for config in configs:
        drivers = {d.name: VirtualScanner(d.name) for d in config.devices}
        scanners |= drivers
        agents.append(Agent(config, drivers=drivers))  # type: ignore[arg-type]
    shop = next(a for a in agents if a.tills)
    floor = Floor(
        products,
        scanners,
        rate=rate,
        till_cash=lambda register: _counted(service, shop, register),
        desk=lambda register: store.desk_refund(service, register, _now()),
        ready=lambda: all(t.register.book is not None for t in shop.tills.values()),
    )
    return agents, floor


def _earlier_runs(workdir: Path, fresh: bool) -> None:
    """Start over (``--fresh``), or say that the data of an earlier run is used again."""
    if fresh:
        forget(workdir)
    elif (workdir / "warehouse.db").exists():
        click.echo(
            f"reusing the demo's data in {workdir}/ from an earlier run "
            "(warehouse demo --fresh starts over)"
        )


#: What a demo run leaves in its directory (and nothing else there is touched).
LEFT_BEHIND = ("warehouse.db*", "outbox-*.db*", "price-book-*.json", "receipts/*/*.txt",
               "receipts/*/*.escpos")  # fmt: skip


def forget(workdir: Path) -> None:
    """Delete what earlier demo runs left in ``workdir``: the database, the agents' outboxes
    and price books, the printed receipts."""
    gone = 0
    for pattern in LEFT_BEHIND:
        for path in workdir.glob(pattern):
            path.unlink()
            gone += 1
    for folder in sorted(workdir.glob("receipts/*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    click.echo(f"starting over: {gone} files of earlier runs deleted from {workdir}/")


def _counted(service: Service, shop: Agent, register: str) -> int | None:
    """What the simulated cashier counts at closing: the cash the session expects, once every
    sale the register made has reached the service (None until then)."""
    if shop.outbox.stats().pending:
        return None
    return store.cash_expected(service, register)


def _database(workdir: Path, api_port: int, mqtt_port: int) -> tuple[Service, list[Product]]:
    """The demo's SQLite database in ``workdir``, migrated and seeded with the demo catalog, and
    the service on it; and the catalog's products (the simulated floor scans them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(workdir / 'warehouse.db').resolve()}"
    click.echo(f"setting up {workdir}/warehouse.db ...")
    upgrade(db_url)
    settings = Settings(
        database_url=db_url,
        mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}",
        mqtt_protocol="3.1.1",
        mqtt_share_group="",
        api_port=api_port,
        access_token_minutes=12 * 60,  # the demo's token lasts the afternoon
        price_book_check_s=5,  # the registers get the store's book soon after they connect
    )
    service = bootstrap(settings)
    with resources.as_file(resources.files("warehouse.demo") / "catalog.yaml") as path:
        locations, products = load(path)
    seed(service.uow(), service.parser, locations, products)
    click.echo(f"catalog: {len(products)} products, {len(locations)} locations")
    return service, products


def _report(
    service: Service,
    worker: IngestWorker,
    agents: list[Agent],
    floor: Floor,
    duration: float,
    stop: threading.Event,
) -> None:
    """Every 10 s until ``stop`` is set or ``duration`` (0: no end) has passed: what was
    scanned, ingested and is still waiting in the edge outboxes, and what the store sold."""
    started = time.monotonic()
    while not stop.wait(10 if duration == 0 else min(10, max(0.1, duration))):
        t = worker.totals
        pending = sum(a.outbox.stats().pending for a in agents)
        log.info(
            "scans %d; ingested %d, rejected %d; edge outboxes awaiting ack %d; store: %s",
            floor.scans,
            t.applied,
            t.rejected,
            pending,
            store.summary(service),
        )
        if duration and time.monotonic() - started >= duration:
            break


DEMO_ADMIN = "demo-admin"
TOUR_AGENT = "dock-door-1"  # docs/mqtt-contract.md's example agent


def _now() -> datetime:
    return datetime.now(UTC)


def demo_admin(service: Service) -> str:
    """The demo's admin (admin at every site), with a new random password each run."""
    password = secrets.token_urlsafe(12)
    if any(u.username == DEMO_ADMIN for u in access.list_users(service.uow)):
        access.set_password(service.uow, service.credentials, DEMO_ADMIN, password, "demo", _now())
    else:
        access.create_user(
            service.uow, service.credentials, DEMO_ADMIN, password, (access.admin_grant(),),
            "demo", _now(),
        )  # fmt: skip
    return password


def demo_access(service: Service, agents: list[tuple[str, str]]) -> tuple[str, str]:
    """Register the demo's agents (their events are refused as unknown_agent otherwise) and
    sign the demo admin in; its password and access token."""
    known = {d.agent_id for d in devices.list_devices(service.uow) if d.revoked_at is None}
    for agent_id, site in agents:
        if agent_id not in known:
            devices.register_device(
                service.uow, service.credentials, agent_id, site, "demo", _now()
            )
    password = demo_admin(service)
    assert service.tokens is not None
    session = access.login(
        service.uow, service.credentials, service.tokens, DEMO_ADMIN, password, _now(),
        service.login_policy,
    )  # fmt: skip
    return password, session.access_token


def _banner(api_port: int, mqtt_port: int, password: str, token: str, workdir: Path) -> None:
    base = f"http://127.0.0.1:{api_port}"
    click.echo(f"""
warehouse demo is running.
  Dashboard  {base}/   (in a browser: sign in with the user and password below)
  API        {base}/api/v1   (interactive docs: {base}/docs)
  MQTT       mqtt://127.0.0.1:{mqtt_port}  (MQTT 3.1.1, in-process broker)
  Sign-in    user {DEMO_ADMIN}, password {password} (new each run; admin at every site)
  Receipts   {workdir / "receipts"}/<register>/*.txt  (the registers' printers)

Every API call needs a token. In another terminal:
  export TOKEN={token}
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/api/v1/stock?location=WH1&limit=5'
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/api/v1/stock/COF-250'
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/api/v1/movements?limit=5'

Press Ctrl-C to stop.
""")
