"""A site on loopback that a fault test can break: its own Mosquitto, its own PostgreSQL database
(or a private cluster), ingest workers and ``warehouse-edge`` agents as real processes, and
operators scanning into the agents' pty scanners at a steady rate.

``Rig.verdict()`` checks what the fault suite promises: every read an operator heard accepted is
in the ledger exactly once, nothing is in the ledger that no agent stored, the projection
matches the ledger (``warehouse db check-projection``), the change feed has every change once,
per-agent acks are complete and gapless, and every outbox drained.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.tcp_proxy import TcpProxy

OK, ERROR = b"\x06", b"\x15"
SERIAL_GTIN = "05901230001254"  # HDP-BT in the demo catalog, serial-tracked
REPO = Path(__file__).resolve().parents[2]


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(
    what: str,
    check: object,
    timeout: float,
    log: Path | None = None,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{what} within {timeout:.0f}s\n{tail}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Broker:
    """Mosquitto on a spare port; with ``persistence`` its sessions and queued messages survive
    a restart (a file in its directory)."""

    def __init__(self, workdir: Path, *, persistence: bool = False) -> None:
        self.port = spare_port()
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o777)  # mosquitto drops to its own user before writing its database
        self.conf = workdir / "mosquitto.conf"
        store = (
            f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n"
            if persistence
            else "persistence false\n"
        )
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{store}"
            "max_queued_messages 100000\nmax_inflight_messages 100\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("mosquitto listening", lambda: listening(self.port), 10)

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)
        self.proc = None

    def close(self) -> None:
        stop(self.proc)
        self.proc = None


class Database:
    """A database of its own on the shared server, copied from the migrated, seeded template."""

    def __init__(self, admin_url: str, template: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.url = admin_url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Cluster:
    """A private PostgreSQL cluster (``initdb``/``pg_ctl`` as the postgres user) that a test
    may stop with ``-m immediate`` (a crash: recovery replays the WAL on start)."""

    def __init__(self) -> None:
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        # the postgres user must reach it: pytest's temporary directories are their owner's only
        self.home = Path(tempfile.mkdtemp(prefix="warehouse-pg-"))
        self.home.chmod(0o777)
        self.data = self.home / "pgdata"
        self.port = spare_port()
        self.log = self.home / "postgres.log"
        self._as_postgres(
            str(self.bin / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(self.data)
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)


def service_env(database_url: str, broker_port: int, site: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": database_url,
        "WAREHOUSE_MQTT_URL": f"mqtt://127.0.0.1:{broker_port}",
        "WAREHOUSE_MQTT_SITE": site,
        "WAREHOUSE_MQTT_SHARE_GROUP": f"faults-{site}",
        "WAREHOUSE_LOG_LEVEL": "INFO",
        "WAREHOUSE_REQUIRE_REGISTERED_AGENTS": "false",  # the rig's agents are made up for it
        **extra,
    }


def warehouse(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class Worker:
    """``warehouse ingest`` as a process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "warehouse.cli", "ingest"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        wait_for(
            "the ingest worker connected",
            lambda: self.log.read_text(errors="replace").count("connected to") >= self.starts,
            30,
            self.log,
            self.proc,
        )

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)

    def close(self) -> None:
        stop(self.proc)


class Api:
    """``warehouse serve`` as a process on a spare port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = spare_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for("the API listening", lambda: listening(self.port), 30, self.log, self.proc)

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)

    def close(self) -> None:
        stop(self.proc)


class Scanner:
    """The operator's side of a pty: a serial scanner that beeps when the host says so."""

    def __init__(self, link: Path) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        self.link = link
        link.symlink_to(os.ttyname(slave))
        os.close(slave)

    def scan(self, code: str, timeout: float) -> bytes:
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.master, 64):  # a late beep for an earlier read
                pass
        os.write(self.master, code.encode() + b"\r\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = os.read(self.master, 1)
            except (BlockingIOError, OSError):
                reply = b""
            if reply:
                return reply
            time.sleep(0.002)
        return b""

    def close(self) -> None:
        os.close(self.master)


class Agent:
    """A ``warehouse-edge`` process with one serial scanner at a receiving station."""

    def __init__(
        self,
        workdir: Path,
        name: str,
        site: str,
        broker_port: int,
        *,
        outbox: Path | None = None,
        env: dict[str, str] | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.name = name
        self.metrics_port = metrics_port
        self.log = workdir / f"{name}.log"
        self.outbox = outbox or workdir / f"{name}-outbox.db"
        self.scanner = Scanner(workdir / f"usb-Scanner_{name}-if00")
        self.env = {**os.environ, **(env or {})}
        self.config = workdir / f"{name}.toml"
        self.config.write_text(f"""
agent_id = "{name}"
site = "{site}"
heartbeat_s = 3600

[broker]
url = "mqtt://127.0.0.1:{broker_port}"
keepalive_s = 5

[outbox]
path = "{self.outbox}"
ack_timeout_s = 3

[[stations]]
name = "dock"
mode = "receiving"
location = "WH1-DOCK-1"

[[devices]]
name = "scanner"
driver = "serial"
station = "dock"

[devices.params]
port = "{self.scanner.link}"
terminator = "CRLF"
feedback = {{ ok = "06", error = "15" }}
""")
        if metrics_port is not None:
            with self.config.open("a") as config:
                config.write(f"\n[metrics]\nport = {metrics_port}\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "warehouse_edge.cli", "run", "--config", str(self.config)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        wait_for(
            f"agent {self.name} up",
            lambda: (
                self.log.read_text(errors="replace").count("device scanner is up") >= self.starts
            ),
            30,
            self.log,
            self.proc,
        )

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)

    def close(self) -> None:
        stop(self.proc)
        self.scanner.close()

    def rows(self) -> list[tuple[int, str, bytes, float, float | None]]:
        """(seq, event_id, payload, created_at, acked_at) of every event the agent stored."""
        with contextlib.closing(sqlite3.connect(self.outbox, timeout=10)) as db:
            return db.execute(
                "SELECT seq, event_id, payload, created_at, acked_at FROM outbox ORDER BY seq"
            ).fetchall()

    def metric(self, name: str) -> float:
        """One sample of the agent's /metrics."""
        assert self.metrics_port is not None
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"no {name} in the agent's metrics")

    def pending(self) -> int:
        with contextlib.closing(sqlite3.connect(self.outbox, timeout=10)) as db:
            row = db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()
        return int(row[0])


class Operator(threading.Thread):
    """Scans unique serials into one agent at a steady rate until ``target`` were accepted
    (an ``ok`` beep). A read with no beep in time is not counted as accepted and not re-scanned:
    the agent may still have stored it, which the verdict allows."""

    def __init__(self, agent: Agent, target: int, rate: float, timeout: float = 2.0) -> None:
        super().__init__(name=f"operator-{agent.name}", daemon=True)
        self.agent = agent
        self.target = target
        self.interval = 1 / rate
        self.timeout = timeout
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.silent: list[str] = []
        self.gate = threading.Event()  # cleared: the operator waits (a test pauses the floor)
        self.gate.set()

    def run(self) -> None:
        due = time.monotonic()
        n = 0
        while len(self.accepted) < self.target and n < self.target * 3:
            self.gate.wait()
            n += 1
            serial = f"{self.agent.name.upper()}X{n:06d}"
            reply = self.agent.scanner.scan(f"]C101{SERIAL_GTIN}21{serial}", self.timeout)
            {OK: self.accepted, ERROR: self.refused}.get(reply, self.silent).append(serial)
            due += self.interval
            time.sleep(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - 1)  # a stall does not turn into a burst

    def progress(self) -> int:
        return len(self.accepted)


@dataclass
class Verdict:
    """What a fault run left behind."""

    accepted: int = 0
    stored: int = 0
    ledger: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: int = 0
    unknown: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    projection: str = ""
    checks: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    first_ack_s: float | None = None
    drained_s: float | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} accepted reads lost: {self.lost[:5]}")
        if self.doubled:
            found.append(f"{self.doubled} doubled in the ledger")
        if self.unknown:
            found.append(f"{len(self.unknown)} ledger rows no agent stored: {self.unknown[:5]}")
        if self.rejected:
            found.append(f"rejected events: {self.rejected[:5]}")
        if self.projection:
            found.append(f"projection: {self.projection}")
        found += self.checks + [f"acks: {p}" for p in self.acks]
        return found


def serial_of(payload: bytes) -> str:
    data = json.loads(payload)["data"]
    return str(data.get("serial") or data.get("code", ""))


class Rig:
    """One site: a broker, a database, ingest workers and agents; the test injects the fault."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        agents: int = 2,
        workers: int = 1,
        persistence: bool = False,
        proxy: bool = False,
        agent_env: dict[str, str] | None = None,
        worker_env: dict[str, str] | None = None,
        outbox_dir: Path | None = None,
        metrics: bool = False,
    ) -> None:
        self.workdir = workdir
        self.site = f"F{uuid.uuid4().hex[:10]}"
        self.database_url = database_url
        self.broker = Broker(workdir / "broker", persistence=persistence)
        self.env = service_env(database_url, self.broker.port, self.site, **(worker_env or {}))
        self.workers = [Worker(self.env, workdir / f"worker-{n}.log") for n in range(workers)]
        self.proxy = TcpProxy(("127.0.0.1", self.broker.port)) if proxy else None
        port = self.proxy.port if self.proxy else self.broker.port
        self.agents = [
            Agent(
                workdir,
                f"a{n}",
                self.site,
                port,
                outbox=(outbox_dir / f"a{n}.db") if outbox_dir else None,
                env=agent_env,
                metrics_port=spare_port() if metrics else None,
            )
            for n in range(agents)
        ]
        self.operators: list[Operator] = []
        self.cleared_at: float | None = None
        self.notes: dict[str, object] = {}

    def start(self) -> None:
        self.broker.start()
        for worker in self.workers:
            worker.start()
        for agent in self.agents:
            agent.start()

    def scan(self, total: int, rate: float) -> None:
        """Operators start scanning: ``total`` accepted reads over all agents, ``rate`` reads a
        second over all agents."""
        share = -(-total // len(self.agents))
        self.operators = [Operator(a, share, rate / len(self.agents)) for a in self.agents]
        for operator in self.operators:
            operator.start()

    def accepted(self) -> int:
        return sum(o.progress() for o in self.operators)

    def wait_accepted(self, count: int, timeout: float = 120) -> None:
        wait_for(f"{count} reads accepted", lambda: self.accepted() >= count, timeout)

    def cleared(self) -> None:
        """The fault is over: recovery times count from now."""
        self.cleared_at = time.time()

    def close(self) -> None:
        for operator in self.operators:
            operator.gate.set()
        for agent in self.agents:
            agent.close()
        for worker in self.workers:
            worker.close()
        self.broker.close()
        if self.proxy is not None:
            self.proxy.close()

    def logs(self) -> str:
        parts = [w.log for w in self.workers] + [a.log for a in self.agents]
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in parts if p.exists()
        )

    # --- the verdict ----------------------------------------------------------------------

    def verdict(self, drain_timeout: float = 120) -> Verdict:
        for operator in self.operators:
            operator.join(300)
            assert not operator.is_alive(), f"{operator.name} did not finish"
        wait_for(
            "every outbox drained",
            lambda: all(a.pending() == 0 for a in self.agents),
            drain_timeout,
            self.workers[0].log,
        )
        verdict = Verdict(accepted=self.accepted(), notes=self.notes)
        stored: dict[str, str] = {}
        for agent in self.agents:
            rows = agent.rows()
            stored |= {event_id: serial_of(payload) for _, event_id, payload, _, _ in rows}
            self._recovery(verdict, rows)
        verdict.stored = len(stored)
        self._ledger(verdict, stored)
        result = warehouse(self.env, "db", "check-projection")
        if result.returncode != 0:
            verdict.projection = (result.stdout + result.stderr)[-1000:]
        return verdict

    def _recovery(
        self, verdict: Verdict, rows: list[tuple[int, str, bytes, float, float | None]]
    ) -> None:
        if self.cleared_at is None:
            return
        t0 = self.cleared_at
        after = [acked - t0 for *_, acked in rows if acked is not None and acked >= t0]
        backlog = [acked - t0 for *_, created, acked in rows if created < t0 and acked is not None]
        if after:
            first = min(after)
            verdict.first_ack_s = min(first, verdict.first_ack_s or first)
        if backlog:
            drained = max(0.0, *backlog)
            verdict.drained_s = max(drained, verdict.drained_s or 0.0)

    def _ledger(self, verdict: Verdict, stored: dict[str, str]) -> None:
        accepted = {s for o in self.operators for s in o.accepted}
        names = [a.name for a in self.agents]
        with psycopg.connect(self.database_url) as db:
            moves = db.execute(
                "SELECT event_id, serial FROM movements WHERE agent_id = ANY(%s)", (names,)
            ).fetchall()
            verdict.rejected = [
                f"{reason}: {detail[:120]}"
                for reason, detail in db.execute("SELECT reason, detail FROM rejected_events")
            ]
            verdict.checks = [
                f"change feed: {n} copies of version {v} of stock row ({p}, {loc}, {lot!r})"
                for p, loc, lot, v, n in db.execute(
                    "SELECT product_id, location_id, lot, version, count(*) FROM stock_changes "
                    "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
                )
            ] + [
                f"change feed: stock row ({p}, {loc}) at version {v} on hand {q}, "
                f"its last change {cv} {cq}"
                for p, loc, v, q, cv, cq in db.execute(
                    "SELECT s.product_id, s.location_id, s.version, s.on_hand, c.version, "
                    "c.on_hand FROM stock s LEFT JOIN LATERAL (SELECT version, on_hand "
                    "FROM stock_changes c WHERE (c.product_id, c.location_id, c.lot) = "
                    "(s.product_id, s.location_id, s.lot) ORDER BY version DESC LIMIT 1) c "
                    "ON true WHERE c.version IS DISTINCT FROM s.version "
                    "OR c.on_hand IS DISTINCT FROM s.on_hand"
                )
            ]
            agents = dict(
                db.execute(
                    "SELECT agent_id, acked_seq FROM agents WHERE agent_id = ANY(%s)", (names,)
                ).fetchall()
            )
            gaps = db.execute("SELECT count(*) FROM seq_gaps WHERE closed_at IS NULL").fetchone()
        for agent in self.agents:
            last = max((seq for seq, *_ in agent.rows()), default=0)
            if agents.get(agent.name) != last:
                verdict.acks.append(f"{agent.name}: acked {agents.get(agent.name)} of {last}")
        if gaps and gaps[0]:
            verdict.acks.append(f"{gaps[0]} sequence gaps still open")
        ledger = dict(moves)
        verdict.ledger = len(moves)
        verdict.doubled = len(moves) - len(ledger)
        verdict.lost = sorted(accepted - set(ledger.values()))
        verdict.unknown = sorted(set(ledger) - set(stored))


class AckWatch:
    """Listens to every agent's acks on the rig's broker: the service must never acknowledge a
    lower seq to an agent after a higher one."""

    def __init__(self, broker_port: int, site: str) -> None:
        import paho.mqtt.client as mqtt

        from warehouse.contracts.topics import PREFIX

        self.seqs: dict[str, list[int]] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acks-{site}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker_port)
        self.client.subscribe(f"{PREFIX}/{site}/+/acks", qos=1)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, message: object) -> None:
        ack = json.loads(message.payload)  # type: ignore[attr-defined]
        self.seqs.setdefault(ack["agent_id"], []).append(int(ack["seq"]))

    def backwards(self) -> list[str]:
        found = []
        for agent, seqs in sorted(self.seqs.items()):
            drops = [(a, b) for a, b in itertools.pairwise(seqs) if b < a]
            if drops:
                found.append(f"acks: {agent} was acked {drops[0][1]} after {drops[0][0]}")
        return found

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
