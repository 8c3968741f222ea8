"""Database outage benchmark: the ingest worker's memory while PostgreSQL is unreachable and
edge agents keep publishing and re-sending, and how long the backlog takes once it is back.

    .venv/bin/python bench/outage.py [--agents 8] [--rate 100] [--outage 60]

Runs its own Mosquitto on a spare loopback port, a fresh PostgreSQL database (dropped after),
and `warehouse ingest` as a process whose database connection goes through a TCP proxy the
bench cuts for ``--outage`` seconds. Each simulated agent publishes ``--rate`` events/s and, like
the edge agent, keeps at most ``--window`` unacknowledged and re-sends what waited
``--ack-timeout`` seconds. Prints the worker's resident memory (sampled every 0.5 s) before,
during and after the outage, the re-sends published, the time to drain, and the ledger's count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import CATALOG, start_mosquitto  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of a process (and its children are not counted)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Agent:
    """One simulated edge agent: paced publishing, a window, re-sends, acks."""

    def __init__(self, name: str, site: str, port: int, window: int, ack_timeout: float) -> None:
        self.name, self.site = name, site
        self.window, self.ack_timeout = window, ack_timeout
        self.topic = f"warehouse/v1/{site}/{name}/events"
        self.pending: dict[int, tuple[bytes, float]] = {}
        self.acked = 0
        self.seq = 0
        self.resent = 0
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}", protocol=5
        )
        self.client.on_message = self._on_ack
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"warehouse/v1/{site}/{name}/acks", qos=1)
        self.client.loop_start()

    def _on_ack(self, _c: Any, _u: Any, message: Any) -> None:
        seq = json.loads(message.payload)["seq"]
        with self.lock:
            self.acked = max(self.acked, seq)
            for s in [s for s in self.pending if s <= seq]:
                del self.pending[s]

    def _payload(self, seq: int) -> bytes:
        doc = {
            "v": 1,
            "event_id": str(uuid.uuid4()),
            "agent_id": self.name,
            "site": self.site,
            "seq": seq,
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "movement",
            "data": {
                "kind": "receive",
                "code": "5901230001025",
                "qty": 1,
                "to_location": "WH1-DOCK-1",
            },
        }
        return json.dumps(doc).encode()

    def run(self, rate: float, until: threading.Event, publish_until: float) -> None:
        interval = 1 / rate
        next_at = time.monotonic()
        while not until.is_set():
            now = time.monotonic()
            with self.lock:
                room = len(self.pending) < self.window
                due = [(s, p) for s, (p, t) in self.pending.items() if now - t > self.ack_timeout]
                for s, p in due:
                    self.pending[s] = (p, now)
            for _, payload in due:
                self.client.publish(self.topic, payload, qos=1)
            self.resent += len(due)
            if now < publish_until and room and now >= next_at:
                self.seq += 1
                payload = self._payload(self.seq)
                with self.lock:
                    self.pending[self.seq] = (payload, now)
                self.client.publish(self.topic, payload, qos=1)
                next_at += interval
            time.sleep(min(interval, 0.01))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100, help="events/s per agent")
    parser.add_argument("--before", type=float, default=10, help="seconds before the outage")
    parser.add_argument("--outage", type=float, default=60)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--ack-timeout", type=float, default=10)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    broker, port, _ = start_mosquitto()
    name = f"warehouse_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + "/" + name
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy((host_port.split(":")[0], int(host_port.split(":")[1])))
    site = f"O{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_MQTT_URL": f"mqtt://127.0.0.1:{port}",
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_MQTT_SHARE_GROUP": f"outage-{site}",
        "WAREHOUSE_LOG_LEVEL": "WARNING",
        "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",  # its made-up agents are not registered
    }
    cli = [sys.executable, "-m", "warehouse.cli"]
    agents: list[Agent] = []
    worker = None
    try:
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "seed", str(CATALOG)], env=env, check=True, capture_output=True)
        env["WAREHOUSE_DATABASE_URL"] = url.replace(host_port, f"127.0.0.1:{proxy.port}")
        worker = subprocess.Popen(
            [*cli, "--log-level", "INFO", "ingest"], env=env, stderr=subprocess.PIPE, text=True
        )
        assert worker.stderr is not None
        while "connected to" not in worker.stderr.readline():
            pass
        threading.Thread(target=worker.stderr.read, daemon=True).start()
        agents = [
            Agent(f"agent-{n}", site, port, args.window, args.ack_timeout)
            for n in range(args.agents)
        ]
        done = threading.Event()
        start = time.monotonic()
        publish_until = start + args.before + args.outage
        threads = [
            threading.Thread(target=a.run, args=(args.rate, done, publish_until), daemon=True)
            for a in agents
        ]
        for t in threads:
            t.start()
        samples: list[tuple[float, float]] = []
        cut_at = start + args.before
        restored_at = None
        while True:
            now = time.monotonic()
            samples.append((now - start, rss_mb(worker.pid)))
            if restored_at is None and now >= cut_at and not proxy._cut.is_set():
                proxy.cut()
                print(f"{now - start:5.1f}s database cut")
            if restored_at is None and now >= cut_at + args.outage:
                proxy.restore()
                restored_at = now
                print(f"{now - start:5.1f}s database back")
            if restored_at is not None and all(a.acked == a.seq for a in agents):
                drained = now - restored_at
                break
            if now - start > args.before + args.outage + 600:
                raise SystemExit("the backlog did not drain within 600 s")
            time.sleep(0.5)
        done.set()
        before = [m for t, m in samples if t < args.before]
        during = [m for t, m in samples if args.before <= t < args.before + args.outage]
        after = [m for t, m in samples if t >= args.before + args.outage]
        published = sum(a.seq for a in agents)
        print(
            f"{args.agents} agents x {args.rate:.0f} events/s, window {args.window}, "
            f"re-send after {args.ack_timeout:.0f} s, {args.outage:.0f} s outage"
        )
        print(
            f"worker RSS: before {max(before):.1f} MB, peak during the outage "
            f"{max(during):.1f} MB, peak after {max(after):.1f} MB"
        )
        print(f"re-sends published: {sum(a.resent for a in agents)}; events: {published}")
        print(f"backlog drained {drained:.1f} s after the database came back")
        with psycopg.connect(url) as conn:
            rows, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT event_id) FROM movements"
            ).fetchone()
        print(f"ledger rows {rows}, distinct event ids {distinct} (published {published})")
    finally:
        for a in agents:
            a.close()
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        proxy.close()
        broker.terminate()
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
