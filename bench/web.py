"""Dashboard benchmark: each page's server time beside a FastAPI hello world, and the time from an
MQTT publish to the number changing on the stock page in Chromium.

    .venv/bin/python bench/web.py --reuse DB_URL [--seconds 5] [--publishes 100]

Uses a database seeded by bench/seed.py (bench/api.py --keep leaves one; without --reuse a fresh
1,000,000-movement one is seeded and dropped). Starts `warehouse serve`, the hello world
(bench/hello.py), a private Mosquitto and `warehouse ingest` as processes; signs a user in
through the sign-in form and loads each page from wrk with the session cookie at 1 and 10
connections. Then it opens the stock page in Debian's chromium (Playwright), publishes receipts
of the product shown one at a time as an edge agent would, and times each from the publish to
the changed number on the page (read on the page's next animation frame).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import api  # noqa: E402
from bench.ingest import start_mosquitto  # noqa: E402

CHROMIUM = os.environ.get("WAREHOUSE_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = secrets.token_urlsafe(16)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any) -> None:
        return None


def sample_row(url: str) -> dict[str, Any]:
    """A stock row in a bin, with a GTIN of its product: what the live part receives into."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT s.sku, s.location_code, s.lot, s.on_hand, c.code FROM stock s "
            "JOIN product_codes c ON c.product_id = s.product_id "
            "JOIN locations l ON l.id = s.location_id "
            "WHERE s.on_hand > 0 AND l.kind = 'bin' AND c.code ~ '^[0-9]{14}$' "
            "ORDER BY s.sku LIMIT 1"
        ).fetchone()
    assert row, "no stock in a bin with a GTIN: seed with bench/seed.py"
    sku, location, lot, on_hand, gtin = row
    return {"sku": sku, "location": location, "lot": lot, "on_hand": on_hand, "gtin": gtin}


def pages(row: dict[str, Any]) -> list[tuple[str, str]]:
    site = row["location"].split("-")[0]
    return [
        ("home", "/home"),
        ("stock, first page", "/stock"),
        ("stock, a site's subtree", f"/stock?location={site}"),
        ("stock, by SKU", f"/stock?q={row['sku']}"),
        ("stock, by GTIN", f"/stock?q={row['gtin']}"),
        ("stock, by name", "/stock?q=product+12"),
        ("product", f"/products/{row['sku']}"),
        ("orders", "/orders"),
        ("counts", "/counts"),
        ("exceptions", "/exceptions"),
        ("devices", "/devices"),
        ("point of sale", "/pos?site=ST1"),
        ("audit", "/audit"),
    ]


def event(site: str, agent: str, seq: int, row: dict[str, Any]) -> bytes:
    data: dict[str, Any] = {
        "kind": "receive", "code": row["gtin"], "qty": 1, "to_location": row["location"],
    }  # fmt: skip
    if row["lot"]:
        data["lot"] = row["lot"]
    return json.dumps(
        {
            "v": 1,
            "event_id": str(uuid.uuid4()),
            "agent_id": agent,
            "site": site,
            "seq": seq,
            "boot": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "movement",
            "device": "bench",
            "station": "receiving",
            "data": data,
        }
    ).encode()


def publish_to_screen(base: str, cookie: str, mqtt_port: int, row: dict[str, Any], n: int) -> None:
    from playwright.sync_api import sync_playwright

    site, agent = "WEB" + uuid.uuid4().hex[:6], "web-bench"
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=agent)
    publisher.connect("127.0.0.1", mqtt_port)
    publisher.loop_start()
    key = f"{row['sku']}|{row['location']}|{row['lot'] or ''}"
    cell = f'tr[data-key="{key}"] [data-field="on_hand"]'
    name, value = cookie.split("=", 1)
    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(bypass_csp=True)  # for wait_for_function's eval
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        query = urllib.parse.urlencode({"q": row["sku"], "location": row["location"]})
        page.goto(f"{base}/stock?{query}")
        page.wait_for_selector('#live[data-state="live"]', timeout=20_000)
        for seq in range(1, n + 1):
            before = float(page.get_attribute(cell, "data-num") or 0)
            started = time.perf_counter()
            publisher.publish(
                f"warehouse/v1/{site}/{agent}/events", event(site, agent, seq, row), 1
            )
            page.wait_for_function(
                f"Number(document.querySelector('{cell}').dataset.num) > {before}",
                polling="raf",
                timeout=10_000,
            )
            latencies.append((time.perf_counter() - started) * 1000)
        browser.close()
    publisher.loop_stop()
    publisher.disconnect()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    print(
        f"publish to screen, {n} receipts one at a time: p50 {statistics.median(latencies):.0f} "
        f"ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms (target p99 <= 1000 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reuse", help="a database seeded before (bench/seed.py)")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--publishes", type=int, default=100)
    args = parser.parse_args()
    name, url = None, args.reuse
    if url is None:
        from bench.seed import seed

        name = f"warehouse_web_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg.rsplit("/", 1)[0] + "/" + name
        seed(url, 1_000_000, 50_000, 180)
    broker, mqtt_port, _ = start_mosquitto()
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_LOG_LEVEL": "WARNING",
        "WAREHOUSE_JWT_SECRET": secrets.token_urlsafe(48),
        "WAREHOUSE_API_RATE_LIMIT": "1000000000/minute",
        "WAREHOUSE_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",
    }
    cli = [sys.executable, "-m", "warehouse.cli"]
    username = f"bench-web-{uuid.uuid4().hex[:6]}"
    subprocess.run(
        [*cli, "users", "create", username, "--grant", "admin@*", "--password-stdin"],
        input=PASSWORD + "\n", env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        run(args, url, env, cli, mqtt_port, procs, username)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
        broker.terminate()
        broker.wait(10)
        if name:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(
    args: argparse.Namespace,
    url: str,
    env: dict[str, str],
    cli: list[str],
    mqtt_port: int,
    procs: list[subprocess.Popen[bytes]],
    username: str,
) -> None:
    api_port, hello_port = api.free_port(), api.free_port()
    procs.append(api.serve([*cli, "serve", "--port", str(api_port)], env, api_port, "/healthz"))
    hello = [sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(hello_port)]
    hello_env = {**env, "PYTHONPATH": str(ROOT)}
    procs.append(api.serve([*hello, "--log-level", "warning"], hello_env, hello_port, "/hello"))
    procs.append(subprocess.Popen([*cli, "ingest"], env=env, stdout=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{api_port}"
    cookie = sign_in_as(base, username)
    api.HEADERS.clear()
    api.HEADERS["Cookie"] = cookie
    row = sample_row(url)
    print(f"2 CPUs; wrk {args.seconds:.0f} s per run after a 1 s warm-up ({api.server_settings()})")
    hello_url = f"http://127.0.0.1:{hello_port}/hello"
    baseline = {c: api.measure(procs[1], hello_url, c, args.seconds) for c in (1, 10)}
    for clients, h in baseline.items():
        print(
            f"hello world, {clients:2d} client(s): {h['rate']:7.0f} req/s, "
            f"p50 {h['p50']:6.2f} ms, p99 {h['p99']:6.2f} ms"
        )
    worst = 0.0
    for label, path in pages(row):
        for clients in (1, 10):
            r = api.measure(procs[0], base + path, clients, args.seconds)
            if clients == 1:
                worst = max(worst, r["p99"])
            print(
                f"{label:<26} {clients:2d} client(s): {r['rate']:7.0f} req/s "
                f"({r['rate'] / baseline[clients]['rate']:.2f} x hello), p50 {r['p50']:6.2f} ms, "
                f"p99 {r['p99']:6.2f} ms, CPU {r['cpu_us']:5.0f} us/req"
            )
    print(f"worst page p99 at 1 client: {worst:.1f} ms (target <= 50)")
    publish_to_screen(base, cookie, mqtt_port, row, args.publishes)


def sign_in_as(base: str, username: str) -> str:
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(urllib.request.Request(base + "/sign-in", data=form), timeout=10)
    except urllib.error.HTTPError as answer:  # the 303 to /home
        if answer.code == 303:
            return answer.headers.get("set-cookie", "").split(";", 1)[0]
        raise SystemExit(f"the sign-in answered {answer.code}: {answer.read()[:300]!r}") from None
    raise SystemExit("the sign-in did not answer 303")


if __name__ == "__main__":
    main()
