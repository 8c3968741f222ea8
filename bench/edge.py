"""Edge agent benchmark.

    .venv/bin/python bench/edge.py [--reads 10000] [--backlog 100000]

Prints:
  pipeline  reads/s from four virtual scanners through decode, station profile, the durable
            outbox (fsync'd group commits) and publish to a broker
  backlog   time to drain a backlog (events accepted while the broker was down) once the broker
            is back: publish, ingest into PostgreSQL, service acks, outbox empty
  rss       the agent process's peak resident memory during the drain, with four devices
  presence  raw RFID reads/s through presence aggregation
  llrp      tag reports/s the LLRP driver frames and decodes from a recorded report stream
Targets (issue 3, issue 26): drain 100,000 in at most 60 s; agent RSS at most 60 MB.
Target (issue 4): presence handles 1,000+ reads/s; a reader's reports must decode faster.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import CATALOG, start_mosquitto

from warehouse import contracts
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

SERIAL_GTIN = "05901230001254"  # HDP-BT in the demo catalog


def config(workdir: Path, port: int, site: str, devices: int, window: int = 2000) -> AgentConfig:
    return AgentConfig(
        agent_id="bench-edge",
        site=site,
        heartbeat_s=3600,
        broker={"url": f"mqtt://127.0.0.1:{port}"},
        outbox={"path": workdir / "outbox.db", "max_inflight": window, "ack_timeout_s": 30},
        stations=[
            {"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1", "debounce_ms": 0}
        ],
        devices=[
            {"name": f"scanner-{n}", "driver": "virtual", "station": "dock"} for n in range(devices)
        ],
    )


def pipeline(port: int, reads: int) -> float:
    """Reads/s from 4 scanners until every event is committed and published."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-edge-"))
    # no service acks here: the in-flight window must hold every read
    cfg = config(workdir, port, f"E{uuid.uuid4().hex[:8]}", 4, window=min(reads, 60_000))
    scanners = {d.name: VirtualScanner(d.name) for d in cfg.devices}
    agent = Agent(cfg, drivers=scanners)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    agent.publisher.connected.wait(10)
    time.sleep(0.5)
    start = time.monotonic()
    for n in range(reads):
        scanners[f"scanner-{n % 4}"].inject(f"]C101{SERIAL_GTIN}21P{n:08d}")
    while agent.publisher._highest_sent < reads:
        time.sleep(0.01)
    seconds = time.monotonic() - start
    stop.set()
    thread.join(15)
    return reads / seconds


def fill_backlog(workdir: Path, port: int, site: str, count: int) -> None:
    """Accept ``count`` scans while no broker is reachable (through the agent's own append)."""
    cfg = config(workdir, port, site, 4)
    agent = Agent(cfg, drivers={d.name: VirtualScanner(d.name) for d in cfg.devices})  # type: ignore[arg-type]
    per_thread = count // 50

    codes = [
        "]E05901230001025",
        "]E05901230001032",
        "]C1010590123000100110L1",
        "]C1010590123000101810L2",
        "]E05901230001049",
    ]  # plain GTINs and lots, no serials

    def work(t: int) -> None:
        for n in range(per_thread):
            data = contracts.MovementData(
                kind="receive", code=codes[(t + n) % len(codes)], qty=6, to_location="WH1-DOCK-1"
            )
            agent._append(data, "scanner-0", "dock")  # the agent's own rendering and outbox

    threads = [threading.Thread(target=work, args=(t,)) for t in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    agent.outbox.close()


def pending(outbox: Path) -> int:
    with sqlite3.connect(outbox) as db:
        return int(db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def drain(backlog: int, pg_admin: str) -> tuple[float, int, int]:
    """Seconds to drain ``backlog`` events after the broker returns; peak agent RSS (kB)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    site = f"D{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    fill_backlog(workdir, 1, site, backlog)  # port 1: nothing listens, like a dead broker
    print(
        f"  backlog of {pending(workdir / 'outbox.db')} events accepted offline in "
        f"{time.monotonic() - t0:.1f} s"
    )
    name = f"warehouse_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg_admin.rsplit("/", 1)[0] + "/" + name
    broker, port, _ = start_mosquitto()
    cfg_path = workdir / "agent.toml"
    cfg_path.write_text(
        f"""
agent_id = "bench-edge"
site = "{site}"
heartbeat_s = 3600
[broker]
url = "mqtt://127.0.0.1:{port}"
[outbox]
path = "{workdir / "outbox.db"}"
max_inflight = 2000
ack_timeout_s = 30
[[stations]]
name = "dock"
mode = "receiving"
location = "WH1-DOCK-1"
"""
        + "".join(
            f"""
[[devices]]
name = "scanner-{n}"
driver = "virtual"
station = "dock"
"""
            for n in range(4)
        )
    )
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_MQTT_URL": f"mqtt://127.0.0.1:{port}",
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_LOG_LEVEL": "WARNING",
        "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",  # its agents are not registered
    }
    cli = [sys.executable, "-m", "warehouse.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "seed", str(CATALOG)], env=env, check=True, capture_output=True)
        procs.append(subprocess.Popen([*cli, "ingest"], env=env))
        time.sleep(1.5)
        start = time.monotonic()
        agent = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warehouse_edge.cli",
                "--log-level",
                "WARNING",
                "run",
                "--config",
                str(cfg_path),
            ]
        )
        procs.append(agent)
        peak = 0
        while pending(workdir / "outbox.db") and time.monotonic() - start < 300:
            peak = max(peak, rss_kb(agent.pid))
            time.sleep(0.2)
        seconds = time.monotonic() - start
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT count(*) FROM movements").fetchone()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        broker.terminate()
        broker.wait(10)
        with psycopg.connect(pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return seconds, peak, int(rows[0]) if rows else 0


def presence(reads: int) -> float:
    """Raw RFID reads/s through presence aggregation (1,000 tags, 4 zones)."""
    import random

    from warehouse_edge.presence import PresenceAggregator, TagRead

    rng = random.Random(7)
    stream = [
        TagRead(
            f"E{rng.randrange(1000):04d}",
            f"zone-{rng.randrange(4)}",
            rng.uniform(-75, -40),
            n / 5000,
        )
        for n in range(reads)
    ]
    aggregator = PresenceAggregator()
    start = time.perf_counter()
    for n, read in enumerate(stream):
        aggregator.read(read)
        if n % 1000 == 0:
            aggregator.tick(read.at)
    return reads / (time.perf_counter() - start)


def llrp(copies: int) -> float:
    """Tag reports/s decoded by the LLRP driver from a recorded stream over a local socket."""
    import socket

    from warehouse_drivers import TagReport
    from warehouse_drivers.llrp import LlrpReader

    root = Path(__file__).resolve().parent.parent
    stream = (root / "tests" / "data" / "llrp" / "dock-door.bin").read_bytes() * copies
    expected = 16 * copies  # the recording holds 16 tag reports (and a keepalive)
    reader = LlrpReader("bench", host="127.0.0.1")
    ours, theirs = socket.socketpair()
    reader._sock, reader.is_open, reader._last_heard = ours, True, time.monotonic()

    def serve() -> None:
        theirs.sendall(stream)

    def swallow_acks() -> None:
        while theirs.recv(65536):
            pass

    threading.Thread(target=serve, daemon=True).start()
    acks = threading.Thread(target=swallow_acks, daemon=True)
    acks.start()
    seen, start = 0, time.perf_counter()
    while seen < expected:
        item = reader.read(5)
        assert item is not None, "the stream stalled"
        seen += isinstance(item, TagReport)
    elapsed = time.perf_counter() - start
    ours.close()  # the ack reader sees the end of the stream and stops
    acks.join(5)
    theirs.close()
    return seen / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=10_000, help="at most 60,000")
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs")
    print(
        f"presence  {presence(200_000):8.0f} raw RFID reads/s through aggregation "
        "(1,000 tags, 4 zones; target >= 1,000)"
    )
    print(
        f"llrp      {llrp(2000):8.0f} tag reports/s framed and decoded by the LLRP driver "
        "(32,000 reports, recorded dock-door stream)"
    )
    broker, port, _ = start_mosquitto()
    try:
        rate = pipeline(port, args.reads)
    finally:
        broker.terminate()
        broker.wait(10)
    print(
        f"pipeline  {rate:8.0f} reads/s  (4 scanners, decode + profile + fsync'd outbox + "
        f"publish, {args.reads} reads)"
    )
    seconds, peak, rows = drain(args.backlog, args.pg)
    print(
        f"backlog   {args.backlog} events drained in {seconds:.1f} s "
        f"({args.backlog / seconds:.0f} ev/s; target <= 60 s); ledger rows {rows}"
    )
    print(f"rss       agent peak {peak / 1024:.1f} MB with 4 devices (target <= 60 MB)")


if __name__ == "__main__":
    main()
