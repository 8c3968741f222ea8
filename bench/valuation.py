"""Valuation benchmark: costing a whole ledger, and the valuation reports on it.

    .venv/bin/python bench/valuation.py [--pg ADMIN_URL] [--reuse DB_URL] [--keep]

Seeds a fresh PostgreSQL database with bench/seed.py (1,000,000 movements, 50,000 products) or
uses --reuse; gives every product a standard cost (receipts without an order come in at it,
FIFO); runs `warehouse valuation rebuild`'s replay over the ledger (movements/s); then asks the
reports through the API in-process (the same routes, serialisation included): the valuation
now and as of mid-year per site, category and product, and a 30-day and a one-year roll-forward
per site and product. Prints each one's median and slowest of five, and their row counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def transactions(engine: object) -> Iterator[object]:
    while True:
        with engine.begin() as conn:  # type: ignore[attr-defined]
            yield conn


def rebuild(url: str) -> None:
    from sqlalchemy import text

    from warehouse.core.db import create_engine
    from warehouse.valuation.adapters.replay import Replay

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET standard_cost_minor = 50 + (id * 37) % 4950"))
    replay = Replay(page=5000)
    with engine.begin() as conn:
        total = replay.clear(conn)
    started = time.monotonic()
    done = 0
    for n in replay.pages(transactions(engine), datetime.now(UTC)):
        done += n
        if done % 100_000 < n:
            print(f"  costed {done:,} of {total:,}", flush=True)
    took = time.monotonic() - started
    print(f"rebuild: {done:,} movements in {took:.1f} s ({done / took:,.0f} movements/s)")
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT count(*) FROM valuation_entries")).scalar_one()
        layers = conn.execute(text("SELECT count(*) FROM cost_positions")).scalar_one()
    print(f"         {entries:,} valuation entries, {layers:,} cost positions")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE valuation_entries"))
        conn.execute(text("ANALYZE cost_positions"))
    engine.dispose()


def reports(url: str) -> None:
    from fastapi.testclient import TestClient

    from warehouse.access.domain import ALL_SITES, Grant, Role
    from warehouse.app import create_app
    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings

    service = bootstrap(Settings(database_url=url))
    assert service.tokens is not None
    token = service.tokens.issue(0, "bench", (Grant(Role.ADMIN, ALL_SITES),), datetime.now(UTC))
    client = TestClient(create_app(service=service), headers={"Authorization": f"Bearer {token}"})
    now = datetime.now(UTC)
    mid = (now - timedelta(days=182)).isoformat()
    cases = [
        ("valuation now by site", "valuation", {"group_by": "site"}),
        ("valuation now by category", "valuation", {"group_by": "category"}),
        ("valuation now by product", "valuation", {"group_by": "product"}),
        ("valuation at mid-year by site", "valuation", {"group_by": "site", "at": mid}),
        ("valuation of WH1 by product", "valuation", {"group_by": "product", "site": "WH1"}),
        ("roll-forward 30 days by site", "valuation/rollforward", {}),
        ("roll-forward a year by site", "valuation/rollforward",
         {"since": (now - timedelta(days=366)).isoformat()}),
        ("roll-forward 30 days by product", "valuation/rollforward", {"group_by": "product"}),
    ]  # fmt: skip
    print(f"{'report':34} {'rows':>7} {'median':>8} {'slowest':>8}")
    with client:
        for label, path, params in cases:
            times, rows = [], 0
            for _ in range(5):
                started = time.perf_counter()
                answer = client.get(f"/api/v1/reports/{path}", params=params)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                rows = len(answer.json()["items"])
            print(
                f"{label:34} {rows:7,} {statistics.median(times) * 1000:6.0f}ms "
                f"{max(times) * 1000:6.0f}ms"
            )
    service.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reuse", help="a database seeded before (bench/seed.py)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--skip-rebuild", action="store_true", help="cost already rebuilt")
    args = parser.parse_args()
    url, name = args.reuse, None
    if url is None:
        from bench.seed import seed

        name = f"warehouse_valuation_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg.rsplit("/", 1)[0] + "/" + name
        seed(url, args.movements, 50_000, 180)
    try:
        if not args.skip_rebuild:
            rebuild(url)
        reports(url)
    finally:
        if name is not None and not args.keep:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif name is not None:
            print(f"kept: {url}")


if __name__ == "__main__":
    main()
