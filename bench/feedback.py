"""Feedback latency: a pick scan's publish → the service's feedback command at its agent.

    .venv/bin/python bench/feedback.py [--rate 500] [--seconds 20] [--stations 100]

``--stations`` pick stations (one agent each) publish pick events for open sales orders at
``--rate`` scans/s in all, through a private Mosquitto on a spare loopback port, to a
`warehouse ingest` process on a fresh PostgreSQL database (dropped afterwards). Every tenth
scan is a wrong item, refused with an ``error``. Each station subscribes to its commands the
way the agent does; the latency of a scan is from its publish to the arrival of the command
that answers it (``event_id``). Prints p50, p99 and max, and how many scans a command covered
(a station that scans faster than a batch commits is told once per batch: service_layer/
reconcile.py ``per_device``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ingest import CATALOG, client, start_mosquitto

TEA, PASTA = "5901230001025", "5901230001087"
ORDERS = 20


def prepare(url: str) -> None:
    """Schema, catalog, 10 million TEA-GRN at WH1-A-01, and confirmed orders to pick from."""
    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings
    from warehouse.core.migrate import upgrade
    from warehouse.orders.service import fulfilment
    from warehouse.orders.service.fulfilment import SalesOrderRequest
    from warehouse.orders.service.receiving import LineRequest
    from warehouse.stock.api.seedfile import load
    from warehouse.stock.service.commands import ManualMovement, MovementRequest
    from warehouse.stock.service.locations import seed
    from warehouse.stock.service.movements import record_movement

    upgrade(url)
    service = bootstrap(Settings(database_url=url))
    try:
        locations, products = load(CATALOG)
        seed(service.uow(), service.parser, locations, products)
        now = datetime.now(UTC)
        receipt = MovementRequest(
            kind="receive", qty=Decimal(10**7), sku="TEA-GRN", to_location="WH1-A-01"
        )
        record_movement(service.uow(), service.catalog, ManualMovement(receipt), now)
        for n in range(ORDERS):
            ref = f"SO-B{n}"
            fulfilment.create_sales_order(
                service.uow(),
                SalesOrderRequest(ref, "WH1", "Bench", [LineRequest("TEA-GRN", Decimal(400_000))]),
                now,
            )
            fulfilment.confirm(service.uow(), ref, "bench", now)
    finally:
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=500, help="scans per second, all stations")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    broker, port, _ = start_mosquitto()
    name = f"warehouse_fb_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + "/" + name
    worker = None
    try:
        prepare(url)
        site = f"F{uuid.uuid4().hex[:6]}"
        env = {
            **os.environ,
            "WAREHOUSE_DATABASE_URL": url,
            "WAREHOUSE_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "WAREHOUSE_MQTT_SITE": site,
            "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",
            "WAREHOUSE_LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "warehouse.cli", "--log-level", "INFO", "ingest"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert worker.stderr is not None
        while "connected to" not in worker.stderr.readline():
            pass
        threading.Thread(target=worker.stderr.read, daemon=True).start()
        run(args, site, port)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        broker.terminate()
        broker.wait(10)
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, site: str, port: int) -> None:
    sent: dict[str, float] = {}
    answers: list[tuple[float, float, str, int]] = []  # latency, level, covered
    lock = threading.Lock()
    done = threading.Event()

    def on_command(_c: Any, _u: Any, message: Any) -> None:
        arrived = time.monotonic()
        body = json.loads(message.payload)["body"]
        with lock:
            start = sent.get(body.get("event_id", ""))
            if start is not None:
                text = body["text"]
                covered = 1 + (int(text.rsplit("(+", 1)[1].split()[0]) if "(+" in text else 0)
                answers.append((arrived - start, arrived, body["level"], covered))

    listener = client("fb-listen", "127.0.0.1", port)
    listener.on_message = on_command
    listener.subscribe(f"warehouse/v1/{site}/+/commands", qos=1)
    listener.loop_start()
    publisher = client("fb-pub", "127.0.0.1", port)
    publisher.loop_start()
    time.sleep(0.5)
    total = int(args.rate * args.seconds)
    interval = 1 / args.rate
    begin = time.monotonic()
    for n in range(total):
        station = n % args.stations
        agent = f"picker-{station}"
        seq = n // args.stations + 1
        wrong = n % 10 == 9
        event_id = str(uuid.uuid4())
        doc = {
            "v": 1,
            "event_id": event_id,
            "agent_id": agent,
            "site": site,
            "seq": seq,
            "boot": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "movement",
            "device": "scanner-1",
            "station": "pick",
            "data": {
                "kind": "pick",
                "code": PASTA if wrong else TEA,
                "qty": 1,
                "from_location": "WH1-A-01",
                "to_location": "WH1-PACK",
                "order_ref": f"SO-B{n % ORDERS}",
            },
        }
        target = begin + n * interval
        while (now := time.monotonic()) < target:
            time.sleep(min(target - now, 0.002))
        with lock:
            sent[event_id] = time.monotonic()
        publisher.publish(f"warehouse/v1/{site}/{agent}/events", json.dumps(doc), qos=1)
    elapsed = time.monotonic() - begin
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            covered = sum(a[3] for a in answers)
        if covered >= total:
            break
        time.sleep(0.2)
    done.set()
    publisher.loop_stop()
    listener.loop_stop()
    latencies = sorted(a[0] * 1000 for a in answers)
    covered = sum(a[3] for a in answers)
    errors = sum(1 for a in answers if a[2] == "error")
    print(
        f"{total} pick scans from {args.stations} stations at {total / elapsed:.0f} scans/s "
        f"({os.cpu_count()} CPUs)"
    )
    print(
        f"feedback commands {len(answers)} covering {covered} scans ({covered / total:.1%}), "
        f"{errors} of them errors (every tenth scan is a wrong item)"
    )
    print(
        f"scan publish → feedback at the station: p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.0f} ms, max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
