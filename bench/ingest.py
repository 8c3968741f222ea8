"""Ingest benchmark: movements through Mosquitto into PostgreSQL, beside raw paho QoS 1.

    .venv/bin/python bench/ingest.py [--events 50000] [--agents 4] [--window 1000] [--orders 50]
    .venv/bin/python bench/ingest.py --broker nats --workers 1 2

Prints, for the same broker in the same run:
  raw     one paho publisher process → one paho subscriber process, QoS 1, same payloads
  ingest  publisher process → Mosquitto → `warehouse ingest` (own process) → PostgreSQL → acks
with events/s, publish-to-visible latency (publish → the service's ack that covers it, i.e.
committed and queryable) and the CPU each process used per event. The ingest publisher plays
``--agents`` edge agents with the agent's own flow control: at most ``--window`` unacknowledged
events per agent, and a re-send of whatever waited ``--ack-timeout`` seconds for its ack
(``--window 0``: the whole run as one burst). Uses a fresh PostgreSQL database, dropped
afterwards, and its own Mosquitto on a spare loopback port whose per-client queue holds a whole
burst: Mosquitto's default (1000 queued QoS 1 messages per client) drops the rest of a 50,000-
message burst for a subscriber that is a moment behind, raw paho and ingest worker alike.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
#: The publisher re-sends what has waited this long without an ack, and keeps at most this many
#: events per agent unacknowledged: the edge agent's defaults ``outbox.ack_timeout_s`` and
#: ``outbox.max_inflight``.
ACK_TIMEOUT_S = 10.0
WINDOW = 1000
CATALOG = ROOT / "src" / "warehouse" / "demo" / "catalog.yaml"
MOVES = [
    {"kind": "receive", "code": "5901230001025", "to_location": "WH1-DOCK-1"},
    {
        "kind": "transfer",
        "code": "5901230001025",
        "from_location": "WH1-DOCK-1",
        "to_location": "WH1-A-01",
    },
    {
        "kind": "pick",
        "code": "5901230001032",
        "from_location": "WH1-A-02",
        "to_location": "WH1-PACK",
    },
    {"kind": "ship", "sku": "TEA-BLK", "from_location": "WH1-PACK"},
]


#: What the events are: plain movements; serial-numbered ones (GS1 with AI 21, or an EPC); RFID
#: arrivals of one tag or of ten (every tag a new serialized unit of HDP-BT).
MIXES = ("plain", "serial", "epc", "arrival", "arrival10")
SERIAL_GTIN = "05901230001254"


def epc_hex(serial: int) -> str:
    """The SGTIN-96 of HDP-BT with this serial (company prefix 5901230, filter 1)."""
    from epcpy.epc_schemes import SGTIN
    from epcpy.epc_schemes.sgtin import SGTINFilterValue

    return str(
        SGTIN(f"urn:epc:id:sgtin:5901230.000125.{serial}").hex(
            binary_coding_scheme=SGTIN.BinaryCodingScheme.SGTIN_96,
            filter_value=SGTINFilterValue("1"),
        )
    )


def event_body(mix: str, agent_number: int, seq: int) -> tuple[str, dict[str, Any]]:
    """(type, data) of one event of the mix."""
    unique = agent_number * 10_000_000 + seq * 10
    if mix == "serial":
        code = f"]C101{SERIAL_GTIN}21S{unique}"
        return "movement", {"kind": "receive", "code": code, "to_location": "WH1-DOCK-1"}
    if mix == "epc":
        return "movement", {"kind": "receive", "epc": epc_hex(unique), "to_location": "WH1-DOCK-1"}
    if mix in ("arrival", "arrival10"):
        tags = [{"epc": epc_hex(unique + n)} for n in range(10 if mix == "arrival10" else 1)]
        return "observation", {"zone": "WH1-DOCK-1", "location": "WH1-DOCK-1", "arrivals": tags}
    return "movement", {**MOVES[seq % 4], "qty": seq % 5 + 1}


def payloads(
    site: str, agents: int, per_agent: int, mix: str = "plain"
) -> list[tuple[str, str, int, bytes]]:
    """(topic, agent, seq, payload) interleaved across agents, as a dock would produce them."""
    out = []
    for seq in range(1, per_agent + 1):
        for a in range(agents):
            agent = f"bench-{a}"
            kind, data = event_body(mix, a, seq)
            doc = {
                "v": 1,
                "event_id": str(uuid.uuid4()),
                "agent_id": agent,
                "site": site,
                "seq": seq,
                "boot": 1,
                "occurred_at": datetime.now(UTC).isoformat(),
                "type": kind,
                "device": "scanner-1",
                "station": "bench",
                "data": data,
            }
            out.append(
                (f"warehouse/v1/{site}/{agent}/events", agent, seq, json.dumps(doc).encode())
            )
    return out


def client(name: str, host: str, port: int, protocol: int = mqtt.MQTTv5) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{name}-{uuid.uuid4().hex[:6]}",
        protocol=protocol,
    )
    c.connect(host, port)
    return c


# --- where the CPU goes (Linux /proc) --------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """A process's descendants (the ingest worker's receiver, multiprocessing's tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *children(kid)]
    return found


def postmaster(pg_url: str) -> int:
    """The pid of the PostgreSQL server the bench talks to (its backends are its children):
    only that server's CPU is counted, not every process named postgres on the machine."""
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
        data_directory = row.fetchone()[0]  # type: ignore[index]
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


class CpuMeter:
    """CPU seconds of groups of processes between start() and stop(); each group is found again
    at the end, so processes started meanwhile (database backends) count from zero."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def _read(self) -> dict[str, dict[int, float]]:
        return {name: {p: cpu_seconds(p) for p in find()} for name, find in self.groups.items()}

    def start(self) -> None:
        self.before, self.busy_before = self._read(), machine_busy()

    def stop(self) -> dict[str, float]:
        after, (busy, total) = self._read(), machine_busy()
        used = {
            name: sum(t - self.before[name].get(p, 0.0) for p, t in after[name].items())
            for name in self.groups
        }
        used["machine busy"] = (busy - self.busy_before[0]) / max(1, total - self.busy_before[1])
        return used


# --- raw paho → paho -------------------------------------------------------------------------


def raw_subscriber(host: str, port: int, topic: str, n: int, ready: Any, out: Any) -> None:
    got = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(*_: Any) -> None:
        nonlocal got, first, last
        last = time.time()
        first = first or last
        got += 1
        if got == n:
            done.set()

    c = client("raw-sub", host, port)
    c.on_message = on_message
    c.on_subscribe = lambda *_: ready.set()
    c.subscribe(topic, qos=1)
    c.loop_start()
    while not done.wait(3):
        if time.time() - last > 3:  # nothing more is coming
            break
    c.loop_stop()
    out.put({"received": got, "last": last})


def raw_publisher(
    host: str,
    port: int,
    items: list[tuple[str, str, int, bytes]],
    out: Any,
    protocol: int = mqtt.MQTTv5,
) -> None:
    c = client("raw-pub", host, port, protocol)
    c.loop_start()
    start = time.time()
    infos = [c.publish(topic, payload, qos=1) for topic, _, _, payload in items]
    for info in infos[-100:]:
        info.wait_for_publish(60)
    out.put({"start": start, "cpu": sum(os.times()[:2])})
    c.loop_stop()


def measure_raw(
    host: str, port: int, items: list[tuple[str, str, int, bytes]], broker_pid: int | None
) -> dict[str, Any]:
    topic = f"bench-raw/{uuid.uuid4().hex[:8]}"
    raw_items = [(topic, a, s, p) for _, a, s, p in items]
    ready, sub_out, pub_out = mp.Event(), mp.Queue(), mp.Queue()
    sub = mp.Process(target=raw_subscriber, args=(host, port, topic, len(items), ready, sub_out))
    sub.start()
    ready.wait(10)
    pub = mp.Process(target=raw_publisher, args=(host, port, raw_items, pub_out))
    meter = CpuMeter(
        {
            "subscriber": lambda: [sub.pid] if sub.pid else [],
            "Mosquitto": lambda: [broker_pid] if broker_pid else [],
        }
    )
    meter.start()
    pub.start()
    published = pub_out.get(timeout=300)
    result = sub_out.get(timeout=300)
    cpu = meter.stop()
    cpu["publisher"] = published["cpu"]
    pub.join(30)
    sub.join(30)
    return {
        "events": result["received"],
        "seconds": result["last"] - published["start"],
        "rate": result["received"] / (result["last"] - published["start"]),
        "cpu": cpu,
    }


# --- through the service ---------------------------------------------------------------------


def ingest_publisher(
    host: str,
    port: int,
    site: str,
    items: list[tuple[str, str, int, bytes]],
    flow: tuple[int, float, int],
    out: Any,
    protocol: int = mqtt.MQTTv5,
) -> None:
    """Publish like edge agents: at most ``window`` unacknowledged units per agent (an event is
    one, an observation one per tag, as the agent weighs them; 0: no limit, one burst),
    re-sending what has waited ``ack_timeout`` seconds without an ack."""
    window, ack_timeout, rate = flow
    sent: dict[tuple[str, int], float] = {}  # first publish, for the latency
    last_sent: dict[tuple[str, int], float] = {}  # last (re-)publish, for the re-send timeout
    latencies: list[float] = []
    acked: dict[str, int] = {}
    weights: dict[tuple[str, int], int] = {}
    in_flight: dict[str, int] = {}  # agent -> the weight of what it has unacknowledged
    lock = threading.Condition()
    total = len(items)
    done = threading.Event()
    payload_of = {(agent, seq): (topic, payload) for topic, agent, seq, payload in items}
    resent = 0

    def on_ack(_c: Any, _u: Any, message: Any) -> None:
        now = time.time()
        ack = json.loads(message.payload)
        agent, seq = ack["agent_id"], ack["seq"]
        with lock:
            for s in range(acked.get(agent, 0) + 1, seq + 1):
                t = sent.pop((agent, s), None)
                last_sent.pop((agent, s), None)
                in_flight[agent] -= weights.pop((agent, s), 0)
                if t is not None:
                    latencies.append(now - t)
            acked[agent] = max(acked.get(agent, 0), seq)
            if len(latencies) == total:
                done.set()
            lock.notify_all()

    def resend() -> None:
        nonlocal resent
        deadline = time.time() + 600
        while not done.wait(1) and time.time() < deadline:
            now = time.time()
            with lock:
                due = [k for k, t in last_sent.items() if now - t > ack_timeout]
                for key in due:
                    last_sent[key] = now
            for key in due:
                c.publish(*payload_of[key], qos=1)
            resent += len(due)

    subscribed = threading.Event()
    c = client("ingest-pub", host, port, protocol)
    c.on_message = on_ack
    c.on_subscribe = lambda *_: subscribed.set()
    c.subscribe(f"warehouse/v1/{site}/+/acks", qos=1)
    c.loop_start()
    subscribed.wait(10)
    start = time.time()
    resender = threading.Thread(target=resend)
    resender.start()
    next_at = time.monotonic()
    for topic, agent, seq, payload in items:
        if rate:  # a steady rate, as a floor of scanners makes it: latency, not throughput
            next_at += 1 / rate
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        cost = max(1, payload.count(b'"epc"'))  # the agent's weight of an event
        with lock:
            while (
                window
                and in_flight.get(agent, 0)
                and in_flight[agent] + cost > window
                and not done.is_set()
            ):
                lock.wait(1)
            sent[(agent, seq)] = last_sent[(agent, seq)] = time.time()
            weights[(agent, seq)] = cost
            in_flight[agent] = in_flight.get(agent, 0) + cost
        c.publish(topic, payload, qos=1)
    resender.join()
    end = time.time()
    c.loop_stop()
    cpu = sum(os.times()[:2])
    out.put({"start": start, "end": end, "latencies": latencies, "cpu": cpu, "resent": resent})


def measure_ingest(
    host: str,
    port: int,
    pg_admin: str,
    items: list[tuple[str, str, int, bytes]],
    site: str,
    workers: int,
    broker_pid: int | None,
    flow: tuple[int, float, int],
    orders: int = 0,
    nats_url: str = "",
) -> dict[str, Any]:
    """Through ``warehouse ingest``: from Mosquitto, or with ``nats_url`` from the JetStream
    stream of the nats-server whose MQTT listener is ``host:port``."""
    name = f"warehouse_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg_admin.rsplit("/", 1)[0] + "/" + name
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_MQTT_URL": f"mqtt://{host}:{port}",
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_MQTT_SHARE_GROUP": f"bench-{site}",
        "WAREHOUSE_LOG_LEVEL": "WARNING",
    }
    if nats_url:
        env["WAREHOUSE_NATS_URL"] = nats_url
    cli = [sys.executable, "-m", "warehouse.cli"]
    try:
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "seed", str(CATALOG)], env=env, check=True, capture_output=True)
        if orders:
            open_orders(cli, env, orders)
        for agent in sorted({a for _, a, _, _ in items}):  # unregistered: unknown_agent
            subprocess.run(
                [*cli, "devices", "register", agent, "--site", site],
                env=env,
                check=True,
                capture_output=True,
            )
        procs = []
        for n in range(workers):
            command = [*cli, "--log-level", "INFO", "ingest", "--client-id", f"{site}-{n}"]
            worker = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
            assert worker.stderr is not None
            while "connected to" not in worker.stderr.readline():
                pass
            # keep reading its log, or a full pipe would stall the worker
            threading.Thread(target=worker.stderr.read, daemon=True).start()
            procs.append(worker)
        time.sleep(0.5)
        receivers = [kid for w in procs for kid in children(w.pid)]
        groups: dict[str, Callable[[], list[int]]] = {"worker": lambda: [w.pid for w in procs]}
        if receivers:  # WAREHOUSE_INGEST_RECEIVER=process; a thread counts with its worker
            groups["receiver"] = lambda: receivers
        server = postmaster(pg_admin)
        groups["PostgreSQL"] = lambda: [server, *children(server)]
        groups["nats-server" if nats_url else "Mosquitto"] = lambda: (
            [broker_pid] if broker_pid else []
        )
        meter = CpuMeter(groups)
        out: Any = mp.Queue()
        protocol = mqtt.MQTTv311 if nats_url else mqtt.MQTTv5  # nats-server speaks 3.1.1
        pub = mp.Process(
            target=ingest_publisher, args=(host, port, site, items, flow, out, protocol)
        )
        meter.start()
        pub.start()
        result = out.get(timeout=900)
        cpu = meter.stop()
        cpu["publisher"] = result["cpu"]
        pub.join(30)
        for worker in procs:
            worker.terminate()
            worker.wait(30)
        with psycopg.connect(url) as conn:
            query = (
                "SELECT (SELECT count(*) FROM movements), (SELECT count(*) FROM inbox), "
                "(SELECT count(*) FROM serial_units)"
            )
            rows = conn.execute(query).fetchone()
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    lat = sorted(result["latencies"])
    seconds = result["end"] - result["start"]
    return {
        "events": len(lat),
        "seconds": seconds,
        "rate": len(lat) / seconds,
        "p50": statistics.median(lat) * 1000,
        "p99": lat[int(len(lat) * 0.99) - 1] * 1000,
        "max": lat[-1] * 1000,
        "resent": result["resent"],
        "ledger_rows": rows[0],
        "distinct_events": rows[1],
        "units": rows[2],
        "cpu": cpu,
    }


def open_orders(cli: list[str], env: dict[str, str], count: int) -> None:
    """``count`` open purchase orders at WH1 for the products the mixes receive, each with
    more than any run delivers: every receipt is matched to an order line (and its station
    told how the line stands)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        rows = ["ref,site,supplier,expected_date,sku,qty"]
        for n in range(count):
            for sku in ("TEA-GRN", "HDP-BT"):
                rows.append(
                    f"PO-BENCH-{n},WH1,Bench supplier,2026-12-{1 + n % 28:02d},{sku},1000000000"
                )
        path.write_text("\n".join(rows) + "\n")
        subprocess.run(
            [*cli, "import", "purchase-orders", str(path)], env=env, check=True, capture_output=True
        )


def start_mosquitto() -> tuple[subprocess.Popen[bytes], int, Path]:
    """A private Mosquitto on a free loopback port, stopped by the caller."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 200000\nmax_inflight_messages 100\n"
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port, conf
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("could not start mosquitto for the benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="ingest worker processes (a shared-subscription group); several values, several runs",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=WINDOW,
        help="unacknowledged events per agent, as the agent's outbox.max_inflight (0: one burst)",
    )
    parser.add_argument(
        "--ack-timeout",
        type=float,
        default=ACK_TIMEOUT_S,
        help="seconds the publisher waits for an ack before re-sending (the agent's default)",
    )
    parser.add_argument(
        "--rate",
        type=int,
        nargs="+",
        default=[],
        help="publish at these steady rates (events/s), one run each, for --seconds; prints "
        "publish-to-ack latency per rate instead of throughput",
    )
    parser.add_argument("--seconds", type=float, default=20, help="length of each --rate run")
    parser.add_argument(
        "--orders",
        type=int,
        default=0,
        help="open this many purchase orders first: every receipt is matched to one",
    )
    parser.add_argument(
        "--mix",
        choices=MIXES,
        default="plain",
        help="plain movements; serial-numbered (GS1 AI 21, an EPC); RFID arrivals of 1 or 10 tags",
    )
    parser.add_argument(
        "--broker",
        choices=("mosquitto", "nats"),
        default="mosquitto",
        help="nats: a private nats-server; devices publish MQTT to it, the workers consume its "
        "JetStream stream, and the raw run is nats-py publish → stream → consume",
    )
    parser.add_argument(
        "--mqtt",
        default="",
        help="host:port of a broker to use instead of starting a private Mosquitto",
    )
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL URL allowed to CREATE DATABASE",
    )
    args = parser.parse_args()
    if args.broker == "nats":
        run_nats(args)
        return
    broker = None
    if args.mqtt:
        host, port = args.mqtt.split(":")
    else:
        broker, port_number, conf = start_mosquitto()
        host, port = "127.0.0.1", str(port_number)
        print(f"private mosquitto on {host}:{port} ({conf})")
    try:
        run(args, host, int(port), broker.pid if broker else None)
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(10)


def run(args: argparse.Namespace, host: str, port: int, broker_pid: int | None) -> None:
    """Measure raw, then ingest, on the same broker (or, with --rate, latency at each rate)."""
    if args.rate:
        run_rates(args, host, port, broker_pid)
        return
    site = f"B{uuid.uuid4().hex[:8]}"
    items = payloads(site, args.agents, args.events // args.agents)
    with_orders = f", {args.orders} open purchase orders" if args.orders else ""
    print(
        f"{len(items)} events from {args.agents} agents ({args.mix}{with_orders}), raw run "
        f"with plain payloads of ~{len(items[0][3])} bytes, {os.cpu_count()} CPUs"
    )
    raw = measure_raw(host, port, items, broker_pid)
    print(
        f"raw paho QoS 1   {raw['rate']:9.0f} msg/s   ({raw['events']} in {raw['seconds']:.2f} s)"
    )
    print_cpu(raw["cpu"], raw["events"])
    for workers in args.workers:
        run_site = f"{site}w{workers}"  # retained acks of one run must not reach the next
        run_items = payloads(run_site, args.agents, args.events // args.agents, args.mix)
        ing = measure_ingest(
            host,
            port,
            args.pg,
            run_items,
            run_site,
            workers,
            broker_pid,
            (args.window, args.ack_timeout, 0),
            args.orders,
        )
        label = f"{workers} worker" + ("s" if workers > 1 else " ")
        print(
            f"ingest, {label}  {ing['rate']:7.0f} ev/s    ({ing['events']} in "
            f"{ing['seconds']:.2f} s)   publish-to-visible p50 {ing['p50']:.0f} ms, "
            f"p99 {ing['p99']:.0f} ms"
        )
        print(
            f"   = {ing['rate'] / raw['rate']:.0%} of raw; ledger rows {ing['ledger_rows']}, "
            f"events in the inbox {ing['distinct_events']}, serialized units {ing['units']}, "
            f"re-sent {ing['resent']}"
        )
        print_cpu(ing["cpu"], ing["events"])


def run_nats(args: argparse.Namespace) -> None:
    """Raw nats-py, then the ingest from JetStream with each --workers count, on one server."""
    from nats_broker import measure_raw_nats, start_nats

    proc, port, mqtt_port, workdir = start_nats(partitions=8)
    url = f"nats://127.0.0.1:{port}"
    print(f"private nats-server on 127.0.0.1:{port}, MQTT on {mqtt_port} ({workdir})")
    try:
        site = f"N{uuid.uuid4().hex[:8]}"
        items = payloads(site, args.agents, args.events // args.agents)
        print(f"{len(items)} events from {args.agents} agents, {os.cpu_count()} CPUs")
        raw = measure_raw_nats(url, items, proc.pid)
        print(
            f"raw nats-py → JetStream   {raw['rate']:7.0f} msg/s   ({raw['events']} in "
            f"{raw['seconds']:.2f} s)"
        )
        print_cpu(raw["cpu"], raw["events"])
        mqtt_items = payloads(f"{site}raw", args.agents, args.events // args.agents)
        raw_mqtt = measure_raw_nats(url, mqtt_items, proc.pid, mqtt_port)
        print(
            f"raw MQTT QoS 1 → JetStream {raw_mqtt['rate']:6.0f} msg/s   ({raw_mqtt['events']} "
            f"in {raw_mqtt['seconds']:.2f} s)"
        )
        print_cpu(raw_mqtt["cpu"], raw_mqtt["events"])
        for workers in args.workers:
            run_site = f"{site}w{workers}"
            run_items = payloads(run_site, args.agents, args.events // args.agents, args.mix)
            flow = (args.window, args.ack_timeout, 0)
            ing = measure_ingest(
                "127.0.0.1", mqtt_port, args.pg, run_items, run_site, workers, proc.pid, flow,
                args.orders, nats_url=url,
            )  # fmt: skip
            label = f"{workers} worker" + ("s" if workers > 1 else " ")
            print(
                f"ingest, {label}  {ing['rate']:7.0f} ev/s    ({ing['events']} in "
                f"{ing['seconds']:.2f} s)   publish-to-visible p50 {ing['p50']:.0f} ms, "
                f"p99 {ing['p99']:.0f} ms\n   = {ing['rate'] / raw['rate']:.0%} of raw nats-py, "
                f"{ing['rate'] / raw_mqtt['rate']:.0%} of raw MQTT; ledger rows "
                f"{ing['ledger_rows']}, re-sent {ing['resent']}"
            )
            print_cpu(ing["cpu"], ing["events"])
    finally:
        proc.terminate()
        proc.wait(10)


def run_rates(args: argparse.Namespace, host: str, port: int, broker_pid: int | None) -> None:
    """Publish-to-ack latency at each steady rate (the agent's window and re-send apply)."""
    print(f"steady rates, {args.agents} agents, {args.seconds:.0f} s each, {os.cpu_count()} CPUs")
    for rate in args.rate:
        site = f"R{uuid.uuid4().hex[:6]}r{rate}"
        count = int(rate * args.seconds) // args.agents
        items = payloads(site, args.agents, count)
        ing = measure_ingest(
            host,
            port,
            args.pg,
            items,
            site,
            args.workers[0],
            broker_pid,
            (args.window, args.ack_timeout, rate),
        )
        print(
            f"{rate:6d} ev/s: achieved {ing['rate']:7.0f} ev/s, publish-to-ack p50 "
            f"{ing['p50']:.0f} ms, p99 {ing['p99']:.0f} ms, max {ing['max']:.0f} ms, "
            f"re-sent {ing['resent']}, ledger rows {ing['ledger_rows']}"
        )
        print_cpu(ing["cpu"], ing["events"])


def print_cpu(cpu: dict[str, float], events: int) -> None:
    """CPU µs per event of each process group, and how busy the machine was."""
    busy = cpu.pop("machine busy")
    per_event = ", ".join(f"{name} {seconds / events * 1e6:.0f}" for name, seconds in cpu.items())
    total = sum(cpu.values()) / events * 1e6
    print(f"   CPU µs per event: {per_event} (all {total:.0f}); the machine was {busy:.0%} busy")


if __name__ == "__main__":
    main()
