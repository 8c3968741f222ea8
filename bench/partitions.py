"""Ledger partitions benchmark: bench/api.py's movement queries on one ledger of a year
(1,000,000 movements by default), partitioned by month and as one table, in the same run.

    .venv/bin/python bench/partitions.py [--pg ADMIN_URL] [--movements 1000000] [--seconds 3]

Seeds one database (bench/seed.py: a year of movements) and copies it. The original's ledger is
partitioned and split into months (`warehouse db partition-ledger`, `db split-history`: 12
months and this one, plus the months made ahead); the copy's stays one table. Then
`bench/api.py --reuse` measures the movement endpoints on each, alternating, ``--rounds`` times,
and this prints each endpoint's figures side by side: req/s with the page cache bypassed
(``no-cache``) at 1 and 10 clients, and the database time of its statements. Both databases are
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LINE = re.compile(
    r"^(?P<label>.+?)\s+(?P<clients>\d+) client\(s\):\s+(?P<rate>\d+) req/s .*"
    r"database\s+(?P<db>[\d.]+) ms$"
)


def prepare(admin: str, movements: int) -> tuple[str, str, list[str]]:
    """(partitioned URL, one-table URL, database names) with the same ledger."""
    from bench.seed import seed

    base = admin.rsplit("/", 1)[0]
    part, flat = (f"warehouse_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("part", "flat"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{part}"')
    seed(f"{base}/{part}", movements, 50_000, 180)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{flat}" TEMPLATE "{part}"')
    today = datetime.now(UTC).date()
    since = date(today.year - 1, today.month, 1)
    env = {"WAREHOUSE_DATABASE_URL": f"{base}/{part}", "WAREHOUSE_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "warehouse.cli"]
    for args in (["partition-ledger"], ["split-history", "--since", f"{since:%Y-%m}"]):
        subprocess.run([*cli, "db", *args], check=True, env={**os.environ, **env})
    for name in (part, flat):
        with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    with psycopg.connect(f"{base}/{part}") as conn:
        counts = conn.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'movements'::regclass "
            "ORDER BY 1"
        ).fetchall()
    held = [f"{n} {t}" for n, t in counts if t > 0]
    print(f"partitioned: {len(counts)} partitions, {len(held)} with movements: {', '.join(held)}")
    return f"{base}/{part}", f"{base}/{flat}", [part, flat]


def measure(url: str, seconds: float) -> dict[tuple[str, int], tuple[float, float]]:
    """(label, clients) -> (req/s, database ms) of the movement endpoints, page cache bypassed."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "api.py"), "--reuse", url, "--seconds",
         str(seconds), "--only", "movements"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found = {}
    for line in out.splitlines():
        match = LINE.match(line.strip())
        if match and match["label"].endswith(", no-cache"):
            key = (match["label"].removesuffix(", no-cache"), int(match["clients"]))
            found[key] = (float(match["rate"]), float(match["db"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    part, flat, names = prepare(args.pg, args.movements)
    results: dict[str, dict[tuple[str, int], list[tuple[float, float]]]] = {
        "partitioned": defaultdict(list),
        "one table": defaultdict(list),
    }
    try:
        for n in range(args.rounds):
            for kind, url in (("one table", flat), ("partitioned", part)):
                for key, figures in measure(url, args.seconds).items():
                    results[kind][key].append(figures)
                print(f"round {n + 1}: {kind} measured", flush=True)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{'endpoint':34s} clients   one table   partitioned   ratio   database ms (one, part)")
    for key in sorted(results["one table"]):
        one, parts = results["one table"][key], results["partitioned"].get(key, [])
        if not parts:
            continue
        rate_one = statistics.mean(r for r, _ in one)
        rate_part = statistics.mean(r for r, _ in parts)
        db_one = statistics.mean(d for _, d in one)
        db_part = statistics.mean(d for _, d in parts)
        print(
            f"{key[0]:34s} {key[1]:7d} {rate_one:9.0f}/s {rate_part:11.0f}/s "
            f"{rate_part / rate_one:7.2f}   {db_one:.2f}, {db_part:.2f}"
        )


if __name__ == "__main__":
    main()
