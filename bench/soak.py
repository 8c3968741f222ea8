"""Soak: a site under steady load for minutes, its processes' memory sampled and judged by slope.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 1000] [--agents 8] [--chart soak.png]

Runs the fault suite's site (tests/faults/rig.py) with no fault: Mosquitto, one ingest worker,
``warehouse serve``, and warehouse-edge agents scanned through ptys at ``--rate`` reads/s in
all, beside API reads (the stock list) and sales. Every 10 s it samples the resident memory
of the worker (with its children), the API, one agent and the broker. Prints the samples as a
table, each process's slope after the first two minutes (least squares, MB a minute), and the
soak's own verdict (nothing lost, nothing doubled); draws the chart with matplotlib.
Target (issue 28): no process grows by more than 1 MB a minute after the first two minutes.
Not in CI: it runs for as long as asked. Needs PostgreSQL and Mosquitto on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import PG_URL  # noqa: E402
from tests.faults.processes import Api, seeded_database, warehouse  # noqa: E402
from tests.faults.rig import Rig  # noqa: E402
from tests.integration.pos_fixtures import open_store, sale  # noqa: E402

SAMPLE_S = 10


def rss_mb(pid: int | None, children: bool = False) -> float:
    """Resident memory of a process (and its descendants), MB."""
    if pid is None:
        return float("nan")
    pids = [pid]
    if children:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
    total = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def api_load(api: Api, token: str, stop: threading.Event, counts: dict[str, int]) -> None:
    """Stock list reads and a sale, about ten requests a second."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=api.base, headers=auth, timeout=30) as client:
        open_store(client, stock={"TEA-GRN": 100_000})  # type: ignore[arg-type]
        n = 0
        while not stop.is_set():
            n += 1
            client.get("/api/v1/stock", params={"limit": 50}).raise_for_status()
            counts["reads"] += 1
            if n % 5 == 0:
                body = sale(
                    f"SOAK-{n}", [{"sku": "TEA-GRN"}], [{"kind": "card", "amount_minor": 499}]
                )
                client.post("/api/v1/pos/sales", json=body).raise_for_status()
                counts["sales"] += 1
            time.sleep(0.1)


def slope(samples: list[tuple[float, float]], after_s: float) -> float:
    """MB a minute, least squares over the samples after ``after_s``."""
    points = [(t / 60, mb) for t, mb in samples if t >= after_s]
    if len(points) < 3:
        return float("nan")
    return statistics.linear_regression(*zip(*points, strict=True)).slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000, help="reads a second, all agents")
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--chart", type=Path, default=ROOT / "artifacts" / "soak.png")
    args = parser.parse_args()

    url = seeded_database(PG_URL, f"warehouse_soak_{uuid.uuid4().hex[:8]}")
    workdir = Path(tempfile.mkdtemp(prefix="warehouse-soak-"))
    rig = Rig(workdir, url, agents=args.agents)
    env = {**rig.env, "WAREHOUSE_API_RATE_LIMIT": "1000000/minute"}
    key = warehouse(env, "api-keys", "create", "soak", "--grant", "admin@*")
    token = next(w for w in key.stdout.split() if w.startswith("whk_"))
    api = Api(env, workdir / "api.log")
    stop = threading.Event()
    counts = {"reads": 0, "sales": 0}
    series: dict[str, list[tuple[float, float]]] = {
        "worker": [],
        "api": [],
        "agent": [],
        "broker": [],
    }
    try:
        rig.start()
        api.start()
        threading.Thread(target=api_load, args=(api, token, stop, counts), daemon=True).start()
        total = int(args.rate * args.minutes * 60)
        rig.scan(total, args.rate)
        started = time.monotonic()
        print(
            f"soak: {total:,} reads at {args.rate:.0f}/s over {args.agents} agents, "
            f"{args.minutes:g} min; sampling every {SAMPLE_S} s",
            flush=True,
        )
        print(
            f"{'t (s)':>6} {'accepted':>9} {'worker MB':>9} {'api MB':>7} {'agent MB':>8} "
            f"{'broker MB':>9}",
            flush=True,
        )
        while any(o.is_alive() for o in rig.operators):
            t = time.monotonic() - started
            procs = {
                "worker": (rig.workers[0].proc, True),
                "api": (api.proc, False),
                "agent": (rig.agents[0].proc, False),
                "broker": (rig.broker.proc, False),
            }
            row = {name: rss_mb(p.pid if p else None, kids) for name, (p, kids) in procs.items()}
            for name, mb in row.items():
                series[name].append((t, mb))
            print(
                f"{t:6.0f} {rig.accepted():9,} {row['worker']:9.1f} {row['api']:7.1f} "
                f"{row['agent']:8.1f} {row['broker']:9.1f}",
                flush=True,
            )
            time.sleep(SAMPLE_S)
        elapsed = time.monotonic() - started
        stop.set()
        verdict = rig.verdict(drain_timeout=600)
    finally:
        stop.set()
        api.close()
        rig.close()
    print(
        f"\n{rig.accepted():,} reads accepted in {elapsed:.0f} s "
        f"({rig.accepted() / elapsed:.0f}/s); API: {counts['reads']:,} reads, "
        f"{counts['sales']:,} sales"
    )
    print(
        f"verdict: ledger {verdict.ledger:,}, lost {len(verdict.lost)}, doubled "
        f"{verdict.doubled}, problems {verdict.problems() or 'none'}"
    )
    print("slope after the first two minutes (target <= 1 MB/min):")
    for name, samples in series.items():
        print(f"  {name:<7} {slope(samples, 120):+.2f} MB/min")
    chart(series, args.chart)
    print(f"chart: {args.chart}")
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def chart(series: dict[str, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    for name, samples in series.items():
        axes.plot([t / 60 for t, _ in samples], [mb for _, mb in samples], marker=".", label=name)
    axes.axvline(2, color="grey", linestyle=":", label="slope from here")
    axes.set_xlabel("minutes")
    axes.set_ylabel("resident memory (MB)")
    axes.set_title("Soak: resident memory under steady load")
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")


if __name__ == "__main__":
    main()
