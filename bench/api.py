"""API benchmark: the stock, movement and SKU endpoints on a big seeded database, beside a
FastAPI hello world served with the same server settings in the same run.

    .venv/bin/python bench/api.py [--pg ADMIN_URL] [--reuse DB_URL] [--seconds 8] [--explain]

Seeds a fresh PostgreSQL database with bench/seed.py (1,000,000 movements, 50,000 products,
~200 locations; dropped afterwards unless --keep) or uses --reuse. Starts `warehouse serve`
and the hello world (bench/hello.py) as processes, and loads each from wrk (Debian's, installed
if missing) at 1 and 10 concurrent connections. Prints req/s, p50 and p99 per endpoint, each
server's CPU per request (from /proc), the database time of the endpoint's own statements
(timed at the driver, in this process) and the ratios to the hello world.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from warehouse.access.adapters.credentials import TokenSigner
from warehouse.access.domain import ALL_SITES, Grant, Role

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")
HEADERS: dict[str, str] = {}  # what wrk sends to the API: an admin's token


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def wrk(
    url: str, connections: int, seconds: float, extra: dict[str, str] | None = None
) -> dict[str, float]:
    """req/s, p50 and p99 (ms) of ``url`` under ``connections`` keep-alive clients."""
    threads = min(connections, 2)
    headers = {} if "/hello" in url else {**HEADERS, **(extra or {})}
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--latency"]
        + [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
        + [url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rate, out
    assert not errors, f"{url}: {errors.group(0)}"
    requests = re.search(r"(\d+) requests in", out)
    return {
        "rate": float(rate.group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "requests": float(requests.group(1)) if requests else 0,
    }


def endpoints(url: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path and query, the queries function and its arguments) of what is measured."""
    from warehouse.core.paging import encode_cursor

    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM stock WHERE on_hand <> 0").fetchone()[0]
        deep = conn.execute(
            "SELECT p.sku, l.code, s.lot FROM stock s JOIN products p ON p.id = s.product_id "
            "JOIN locations l ON l.id = s.location_id WHERE s.on_hand <> 0 "
            "ORDER BY p.sku, l.code, s.lot OFFSET %s LIMIT 1",
            (int(total * 0.9),),
        ).fetchone()
        top = conn.execute("SELECT max(id) FROM movements").fetchone()[0]
        sku = conn.execute("SELECT sku FROM products ORDER BY sku OFFSET 4321 LIMIT 1").fetchone()[
            0
        ]
        zone = conn.execute(
            "SELECT code FROM locations WHERE kind = 'zone' ORDER BY code LIMIT 1"
        ).fetchone()[0]
        bin_ = conn.execute(
            "SELECT code FROM locations WHERE kind = 'bin' ORDER BY code LIMIT 1"
        ).fetchone()[0]
    stock_deep = encode_cursor(list(deep))
    moves_deep = encode_cursor([int(top * 0.1)])
    return [
        ("stock, first page", "/api/v1/stock?limit=50", {"fn": "stock", "limit": 50}),
        (
            "stock under a site",
            "/api/v1/stock?limit=50&location=WH1",
            {"fn": "stock", "limit": 50, "location": "WH1"},
        ),
        (
            "stock under a zone",
            f"/api/v1/stock?limit=50&location={zone}",
            {"fn": "stock", "limit": 50, "location": zone},
        ),
        (
            "stock in a bin",
            f"/api/v1/stock?limit=50&location={bin_}",
            {"fn": "stock", "limit": 50, "location": bin_},
        ),
        (
            "stock, page 90% in",
            f"/api/v1/stock?limit=50&cursor={stock_deep}",
            {"fn": "stock", "limit": 50, "cursor": stock_deep},
        ),
        ("one SKU's stock", f"/api/v1/stock/{sku}", {"fn": "stock_for_sku", "sku": sku}),
        ("movements, first page", "/api/v1/movements?limit=50", {"fn": "movements", "limit": 50}),
        (
            "movements in a zone",
            f"/api/v1/movements?limit=50&location={zone}",
            {"fn": "movements", "limit": 50, "location": zone},
        ),
        (
            "movements of a SKU",
            f"/api/v1/movements?limit=50&sku={sku}",
            {"fn": "movements", "limit": 50, "sku": sku},
        ),
        (
            "movements, page 90% in",
            f"/api/v1/movements?limit=50&cursor={moves_deep}",
            {"fn": "movements", "limit": 50, "cursor": moves_deep},
        ),
    ]


def database_time(url: str, spec: dict[str, Any], explain: bool) -> float:
    """Median ms the endpoint's statements spend in the driver and database, in this process."""
    from sqlalchemy import event

    from warehouse.core.db import create_engine
    from warehouse.stock.adapters import movement_queries, stock_queries

    engine = create_engine(url)
    spent: list[float] = []
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info["t"] = time.perf_counter()
        statements.append((statement, params))

    @event.listens_for(engine, "after_cursor_execute")
    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        spent[-1] += time.perf_counter() - conn.info["t"]

    args = {k: v for k, v in spec.items() if k != "fn"}
    function = {
        "stock": stock_queries.stock,
        "stock_for_sku": stock_queries.stock_for_sku,
        "movements": movement_queries.movements,
    }[spec["fn"]]
    for _ in range(30):
        statements.clear()
        spent.append(0.0)
        with engine.connect() as conn:
            function(conn, **args)
    if explain:
        measured = list(statements)
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        with engine.connect() as conn:
            for statement, params in measured:
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params
                ).scalars()
                print("      " + "\n      ".join(plan))
    engine.dispose()
    return statistics.median(spent[5:]) * 1000


def measure(
    proc: subprocess.Popen[bytes],
    url: str,
    clients: int,
    seconds: float,
    extra: dict[str, str] | None = None,
) -> dict[str, float]:
    """wrk figures for ``url`` after a 1 s warm-up, and the server's CPU per request."""
    wrk(url, clients, 1, extra)
    before = cpu(proc.pid)
    figures = wrk(url, clients, seconds, extra)
    figures["cpu_us"] = (cpu(proc.pid) - before) / figures["requests"] * 1e6
    return figures


#: Each endpoint twice: as a poller repeats it (the API's page cache may answer: the same
#: version, path and sites), and with ``Cache-Control: no-cache`` (the query runs every time).
MODES: dict[str, tuple[str, dict[str, str]]] = {
    "repeated": ("", {}),
    "no-cache": (", no-cache", {"Cache-Control": "no-cache"}),
}


def print_endpoint(
    label: str, clients: int, r: dict[str, float], h: dict[str, float], db_ms: float
) -> None:
    cpu_budget = 2 * h["cpu_us"] + db_ms * 1000
    print(
        f"{label:34s} {clients:2d} client(s): {r['rate']:7.0f} req/s "
        f"({r['rate'] / h['rate']:.2f} x hello), p50 {r['p50']:6.2f} ms, "
        f"p99 {r['p99']:6.2f} ms ({r['p99'] / h['p99']:.1f} x hello), "
        f"CPU {r['cpu_us']:5.0f} us/req ({r['cpu_us'] / cpu_budget:.2f} x "
        f"2 x hello + database), database {db_ms:5.2f} ms"
    )


def track_worst(
    worst: dict[str, float], clients: int, r: dict[str, float], h: dict[str, float], db_ms: float
) -> None:
    if clients == 10:
        worst["rate"] = min(worst["rate"], r["rate"] / h["rate"])
        worst["p99"] = max(worst["p99"], r["p99"] / h["p99"])
    else:
        worst["p99_1"] = max(worst["p99_1"], r["p99"])
    worst["cpu"] = max(worst["cpu"], r["cpu_us"] / (2 * h["cpu_us"] + db_ms * 1000))


def not_modified(
    api: subprocess.Popen[bytes],
    port: int,
    baseline: dict[int, dict[str, float]],
    args: argparse.Namespace,
) -> None:
    """The 304 path: a poller that sends back the ETag of the page it holds."""
    for label, path in (
        ("stock, first page", "/api/v1/stock?limit=50"),
        ("movements, first page", "/api/v1/movements?limit=50"),
    ):
        if args.only and args.only not in label:
            continue
        url = f"http://127.0.0.1:{port}{path}"
        with urllib.request.urlopen(urllib.request.Request(url, headers=HEADERS)) as answer:
            held = {"If-None-Match": answer.headers["ETag"]}
        for clients in (1, 10):
            r = measure(api, url, clients, args.seconds, held)
            h = baseline[clients]
            print(
                f"{label + ', 304':24s} {clients:2d} client(s): {r['rate']:7.0f} req/s "
                f"({r['rate'] / h['rate']:.2f} x hello), p50 {r['p50']:6.2f} ms, "
                f"p99 {r['p99']:6.2f} ms, CPU {r['cpu_us']:5.0f} us/req"
            )


def server_settings() -> str:
    """uvicorn's version and the event loop and HTTP parser it picks (both servers the same)."""
    import importlib.util

    import uvicorn

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {uvicorn.__version__}, {loop} loop, {http} parser"


def serve(
    command: list[str], env: dict[str, str], port: int, probe: str
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(f"http://127.0.0.1:{port}{probe}")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reuse", help="a database seeded before (bench/seed.py)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument("--only", help="measure only endpoints whose label contains this")
    parser.add_argument(
        "--api-key",
        action="store_true",
        help="authenticate with an API key (X-API-Key, made with the CLI) instead of a token",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    name = None
    url = args.reuse
    if url is None:
        from bench.seed import seed

        name = f"warehouse_api_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg.rsplit("/", 1)[0] + "/" + name
        seed(url, args.movements, 50_000, 180)
    api_port, hello_port = free_port(), free_port()
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_LOG_LEVEL": "WARNING",
        "WAREHOUSE_JWT_SECRET": secret,
        # one principal makes every request: counted by the limiter, never refused by it
        "WAREHOUSE_API_RATE_LIMIT": "1000000000/minute",
    }
    HEADERS["Authorization"] = "Bearer " + TokenSigner(secret.encode(), timedelta(hours=2)).issue(
        0, "bench", (Grant(Role.ADMIN, ALL_SITES),), datetime.now(UTC)
    )
    if args.api_key:  # made by the CLI of the code under test, as an operator would
        cli = [sys.executable, "-m", "warehouse.cli", "api-keys", "create", "bench"]
        made = subprocess.run(
            [*cli, "--grant", "admin@*"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        HEADERS.clear()
        HEADERS["X-API-Key"] = made.stdout.strip()
    procs = []
    try:
        api = serve(
            [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(api_port)],
            env,
            api_port,
            "/healthz",
        )
        hello = serve(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.hello:app",
                "--port",
                str(hello_port),
                "--log-level",
                "warning",
            ],
            {**env, "PYTHONPATH": str(ROOT)},
            hello_port,
            "/hello",
        )
        procs = [api, hello]
        specs = endpoints(url)
        print(
            f"{os.cpu_count()} CPUs; wrk {args.seconds:.0f} s per run after a 1 s warm-up; "
            f"API and hello world each one uvicorn process ({server_settings()})"
        )
        hello_url = f"http://127.0.0.1:{hello_port}/hello"
        baseline = {c: measure(hello, hello_url, c, args.seconds) for c in (1, 10)}
        for clients, h in baseline.items():
            print(
                f"hello world, {clients:2d} client(s): {h['rate']:7.0f} req/s, "
                f"p50 {h['p50']:6.2f} ms, p99 {h['p99']:6.2f} ms, CPU {h['cpu_us']:5.0f} us/req"
            )
        worst = {mode: {"rate": 99.0, "p99": 0.0, "p99_1": 0.0, "cpu": 0.0} for mode in MODES}
        for label, path, spec in specs:
            if args.only and args.only not in label:
                continue
            db_ms = database_time(url, spec, args.explain)
            for mode, (suffix, extra) in MODES.items():
                for clients in (1, 10):
                    r = measure(
                        api, f"http://127.0.0.1:{api_port}{path}", clients, args.seconds, extra
                    )
                    print_endpoint(label + suffix, clients, r, baseline[clients], db_ms)
                    track_worst(worst[mode], clients, r, baseline[clients], db_ms)
        not_modified(api, api_port, baseline, args)
        # the hello world again: the machine's pace may have drifted during the run
        again = {c: measure(hello, hello_url, c, args.seconds) for c in (1, 10)}
        for clients, h in again.items():
            print(
                f"hello world again, {clients:2d} client(s): {h['rate']:7.0f} req/s, "
                f"p99 {h['p99']:6.2f} ms, CPU {h['cpu_us']:5.0f} us/req"
            )
        for mode, w in worst.items():
            print(
                f"worst at 10 clients ({mode}): {w['rate']:.2f} x hello's req/s (target >= "
                f"0.5), p99 {w['p99']:.1f} x hello's (target <= 2); worst p99 at 1 client "
                f"{w['p99_1']:.1f} ms (target <= 20); worst CPU {w['cpu']:.2f} x "
                "(2 x hello + database) (target <= 1)"
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
        if name and not args.keep:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
