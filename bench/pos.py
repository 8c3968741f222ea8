"""Point-of-sale benchmark on PostgreSQL: sales through the API, and the stock stream's fan-out.

    .venv/bin/python -m bench.pos [--pg ADMIN_URL] [--seconds 10] [--subscribers 100]
                                  [--rate 1000]

Makes a fresh database (dropped afterwards) with the demo catalog and a store of ten registers,
and starts `warehouse serve` as a process of its own (one uvicorn worker).

sales   1 and 10 clients (threads of this process, keep-alive, each at a register of its own)
        post sales of two lines paid by card for --seconds each: sales/s, p50 and p99 of the
        request, and the API's CPU per sale.
stream  --subscribers clients of GET /api/v1/stream/stock (one asyncio process of their own)
        while this process applies --rate stock changes a second through the ingest use case
        (receipts in batches every 50 ms, as the ingest worker commits them). Every delivered
        change is timed from the ``changed_at`` it carries (the time its batch started, before
        its commit: so the figure is an upper bound of commit-to-delivery) to its arrival;
        prints p50, p99 and max over every delivery, and whether every subscriber got every
        change exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import cpu, free_port, serve  # noqa: E402

from warehouse.access.adapters.credentials import TokenSigner  # noqa: E402
from warehouse.access.domain import ALL_SITES, Grant, Role  # noqa: E402

REGISTERS = [f"ST1-BR{n:02}" for n in range(1, 11)]
SKUS = ["TEA-GRN", "TEA-BLK", "WTR-6", "PST-500", "RIC-1K"]
BINS = [f"WH1-{aisle}-{n:02}" for aisle in "AB" for n in range(1, 7)]
CHANGED_AT = re.compile(rb'"changed_at":"([^"]+)"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def store(client: httpx2.Client) -> None:
    """Tax, prices and ten open registers at ST1, each with stock for the whole run."""

    def ok(answer: httpx2.Response) -> None:
        assert answer.status_code in (200, 201), answer.text

    for category, rate in (("standard", "20"), ("reduced", "7")):
        ok(
            client.post(
                "/api/v1/pos/tax-rates",
                json={
                    "site": "ST1",
                    "category": category,
                    "rate_percent": rate,
                    "valid_from": "2020-01-01",
                },
            )
        )
    prices = [
        {"sku": "TEA-GRN", "unit_price_minor": 499, "tax_category": "reduced"},
        {"sku": "WTR-6", "unit_price_minor": 299, "tax_category": "standard"},
    ]
    ok(
        client.post(
            "/api/v1/pos/price-lists",
            json={"site": "ST1", "name": "everyday", "currency": "EUR", "prices": prices},
        )
    )
    for code in REGISTERS:
        location = {"code": code, "name": code, "kind": "register", "parent_code": "ST1"}
        ok(client.post("/api/v1/locations", json=location))
        ok(client.post("/api/v1/pos/registers", json={"location": code}))
        for sku in ("TEA-GRN", "WTR-6"):
            receipt = {"kind": "receive", "sku": sku, "qty": "1000000", "to_location": code}
            ok(client.post("/api/v1/movements", json=receipt))
        ok(client.post(f"/api/v1/pos/registers/{code}/sessions", json={"float_minor": 0}))


def sell(base: str, headers: dict[str, str], register: str, until: float) -> list[float]:
    """Sales at ``register`` until ``until``; each request's seconds."""
    spent = []
    with httpx2.Client(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            body = {
                "sale_id": str(uuid.uuid4()),
                "register": register,
                "lines": [{"sku": "TEA-GRN", "qty": "2"}, {"sku": "WTR-6"}],
                "tenders": [{"kind": "card", "amount_minor": 1297, "reference": "bench"}],
            }
            start = time.perf_counter()
            answer = client.post("/api/v1/pos/sales", json=body)
            spent.append(time.perf_counter() - start)
            assert answer.status_code == 201, answer.text
    return spent


def bench_sales(
    api: subprocess.Popen[bytes], base: str, headers: dict[str, str], seconds: float
) -> None:
    for clients in (1, 10):
        sell(base, headers, REGISTERS[0], time.monotonic() + 1)  # warm-up
        before = cpu(api.pid)
        until = time.monotonic() + seconds
        with ThreadPoolExecutor(clients) as pool:
            runs = list(
                pool.map(
                    sell,
                    *zip(*[(base, headers, r, until) for r in REGISTERS[:clients]], strict=True),
                )
            )
        spent = [s for run in runs for s in run]
        used = cpu(api.pid) - before
        print(
            f"API sales, {clients:2d} client(s): {len(spent) / seconds:6.0f} sales/s, "
            f"p50 {percentile(spent, 0.5) * 1000:6.1f} ms, "
            f"p99 {percentile(spent, 0.99) * 1000:6.1f} ms, "
            f"API CPU {used / len(spent) * 1e6:5.0f} us/sale ({len(spent)} sales)"
        )


# --- the stream ----------------------------------------------------------------------------


def subscribers(base: str, headers: dict[str, str], n: int, seconds: float, out: Any) -> None:
    """(In its own process) ``n`` stream clients for ``seconds``: latencies and ids seen."""

    async def one(
        client: httpx2.AsyncClient, ready: asyncio.Event, counts: list[int]
    ) -> tuple[list[float], list[int]]:
        latencies: list[float] = []
        ids: list[int] = []
        buffer = b""
        async with client.stream("GET", "/api/v1/stream/stock") as response:
            counts[0] += 1
            if counts[0] == n:
                ready.set()
            deadline = time.monotonic() + seconds + 5
            async for chunk in response.aiter_raw():
                now = time.time()
                buffer += chunk
                complete, _, buffer = buffer.rpartition(b"\r\n\r\n")
                for stamp in CHANGED_AT.findall(complete):
                    latencies.append(now - datetime.fromisoformat(stamp.decode()).timestamp())
                ids.extend(int(m) for m in re.findall(rb"^id: (\d+)", complete, re.M))
                if time.monotonic() > deadline:
                    break
        return latencies, ids

    async def run() -> None:
        ready = asyncio.Event()
        counts = [0]
        limits = httpx2.Limits(max_connections=n + 10)
        async with httpx2.AsyncClient(
            base_url=base, headers=headers, timeout=60, limits=limits
        ) as client:
            tasks = [asyncio.create_task(one(client, ready, counts)) for _ in range(n)]
            await asyncio.wait_for(ready.wait(), 60)
            out.put("ready")
            results = await asyncio.gather(*tasks, return_exceptions=True)
        lat: list[float] = []
        per_sub: list[Any] = []
        for r in results:
            if isinstance(r, BaseException):
                per_sub.append(("error", repr(r)))
                continue
            lat.extend(r[0])
            per_sub.append((len(r[1]), len(set(r[1])), r[1] == sorted(r[1])))
        out.put((lat, per_sub))

    asyncio.run(run())


def receipts(n: int, start: int) -> list[tuple[str, bytes]]:
    """``n`` receipt events, each to a (product, bin) of its own within the batch."""
    out = []
    for i in range(n):
        k = start + i
        doc = {
            "v": 1,
            "event_id": str(uuid.uuid4()),
            "agent_id": "bench-stream",
            "site": "WH1",
            "seq": k + 1,
            "boot": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "movement",
            "device": "scanner-1",
            "station": "bench",
            "data": {
                "kind": "receive",
                "sku": SKUS[k % len(SKUS)],
                "qty": 1,
                "to_location": BINS[(k // len(SKUS)) % len(BINS)],
            },
        }
        out.append(("warehouse/v1/WH1/bench-stream/events", json.dumps(doc).encode()))
    return out


def bench_stream(
    base: str, headers: dict[str, str], url: str, subs: int, rate: int, seconds: float
) -> None:
    from sqlalchemy import func, select

    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings
    from warehouse.ingest.service.ingest import ingest_batch
    from warehouse.ingest.worker.translate import translate
    from warehouse.stock.adapters import tables

    service = bootstrap(Settings(database_url=url, require_registered_agents=False))
    feed = tables.stock_changes

    def changes() -> int:
        with service.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(feed)).scalar_one())

    seq = 0

    def apply(n: int) -> None:
        nonlocal seq
        items = [translate(topic, body, 256 * 1024) for topic, body in receipts(n, seq)]
        seq += n
        ingest_batch(service.uow(), service.catalog, items, datetime.now(UTC))

    before = changes()
    apply(25)
    per_event = (changes() - before) / 25  # the bin's row and, per product, the supplier's
    per_batch = max(1, round(rate / 20 / per_event))
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    reader = ctx.Process(target=subscribers, args=(base, headers, subs, seconds, out))
    reader.start()
    assert out.get(timeout=90) == "ready"
    time.sleep(1.0)  # every subscriber is live
    start_changes = changes()
    started = time.monotonic()
    batches = 0
    while time.monotonic() - started < seconds:
        apply(per_batch)
        batches += 1
        pause = started + batches * 0.05 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.monotonic() - started
    written = changes() - start_changes
    latencies, per_sub = out.get(timeout=seconds + 120)
    reader.join(30)
    service.close()
    got = [p for p in per_sub if p[0] != "error"]
    complete = sum(1 for p in got if p[0] == p[1] == written and p[2])
    print(
        f"stream, {subs} subscribers: {written / elapsed:6.0f} changes/s written "
        f"for {elapsed:.0f} s "
        f"({written} changes, {per_batch} receipts per 50 ms batch); {len(latencies)} deliveries"
    )
    print(
        f"   changed_at -> delivered: p50 {percentile(latencies, 0.5) * 1000:6.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms, max {max(latencies) * 1000:6.1f} ms; "
        f"{complete} of {subs} subscribers got all {written} changes once, in order"
    )
    errors = [p for p in per_sub if p[0] == "error"]
    if errors:
        print(f"   {len(errors)} subscribers failed: {errors[0][1]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000, help="stock changes per second")
    parser.add_argument("--only", choices=["sales", "stream"])
    args = parser.parse_args()

    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings
    from warehouse.core.migrate import upgrade
    from warehouse.stock.api.seedfile import load
    from warehouse.stock.service.locations import seed

    name = f"warehouse_pos_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + "/" + name
    api = None
    try:
        upgrade(url)
        seeded = bootstrap(Settings(database_url=url))
        from importlib import resources

        locations, products = load(Path(str(resources.files("warehouse.demo") / "catalog.yaml")))
        seed(seeded.uow(), seeded.parser, locations, products)
        seeded.close()
        port = free_port()
        secret = secrets.token_urlsafe(48)
        env = {
            **os.environ,
            "WAREHOUSE_DATABASE_URL": url,
            "WAREHOUSE_LOG_LEVEL": "WARNING",
            "WAREHOUSE_JWT_SECRET": secret,
            "WAREHOUSE_API_RATE_LIMIT": "1000000000/minute",
        }
        token = TokenSigner(secret.encode(), timedelta(hours=2)).issue(
            0, "bench", (Grant(Role.ADMIN, ALL_SITES),), datetime.now(UTC)
        )
        headers = {"Authorization": f"Bearer {token}"}
        api = serve(
            [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(port)],
            env,
            port,
            "/healthz",
        )
        base = f"http://127.0.0.1:{port}"
        with httpx2.Client(base_url=base, headers=headers, timeout=30) as client:
            store(client)
        print(f"{os.cpu_count()} CPUs; PostgreSQL; `warehouse serve`, one uvicorn process")
        if args.only in (None, "sales"):
            bench_sales(api, base, headers, args.seconds)
        if args.only in (None, "stream"):
            bench_stream(base, headers, url, args.subscribers, args.rate, args.seconds)
    finally:
        if api is not None:
            api.terminate()
            api.wait(20)
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
