"""The processes of a site on loopback, each one a test can start, kill and start again:
Mosquitto, a database (a copy of a template, or a private cluster), ``warehouse ingest``,
``warehouse serve`` and ``warehouse-edge`` agents with a pty scanner each."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

OK, ERROR = b"\x06", b"\x15"
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
    a restart (a file in its directory); with ``bridge_to`` it bridges every ``warehouse/``
    topic both ways to the broker on that port (two nodes of one cluster, as devices see it)."""

    def __init__(
        self, workdir: Path, *, persistence: bool = False, bridge_to: int | None = None
    ) -> None:
        self.port = spare_port()
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o777)  # mosquitto drops to its own user before writing its database
        self.conf = workdir / "mosquitto.conf"
        store = (
            f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n"
            if persistence
            else "persistence false\n"
        )
        bridge = (
            f"connection node-{bridge_to}\naddress 127.0.0.1:{bridge_to}\n"
            "topic warehouse/# both 1\ncleansession true\ntry_private true\n"
            "restart_timeout 1\n"
            if bridge_to
            else ""
        )
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{store}"
            f"max_queued_messages 100000\nmax_inflight_messages 100\n{bridge}"
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
        failover_ports: tuple[int, ...] = (),
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
failover = {[f"mqtt://127.0.0.1:{port}" for port in failover_ports]!r}
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
