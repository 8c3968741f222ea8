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

from tests.e2e.test_edge_agent import Scanner as PtyScanner

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


def seeded_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url``, migrate it and load the demo
    catalog; return its URL."""
    from tests.conftest import DEMO_CATALOG

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    env = service_env(url, 1883, "setup")
    for args in (("db", "upgrade"), ("seed", str(DEMO_CATALOG))):
        result = warehouse(env, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return url


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

    def __init__(self, primary: Cluster | None = None) -> None:
        """A new cluster (initdb), or with ``primary`` a streaming replica of it
        (pg_basebackup -R: a standby that follows the primary's WAL)."""
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        # the postgres user must reach it: pytest's temporary directories are their owner's only
        self.home = Path(tempfile.mkdtemp(prefix="warehouse-pg-"))
        self.home.chmod(0o777)
        self.data = self.home / "pgdata"
        self.port = spare_port()
        self.log = self.home / "postgres.log"
        if primary is None:
            self._as_postgres(
                str(self.bin / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(self.data)
            )
        else:
            self._as_postgres(
                str(self.bin / "pg_basebackup"), "-D", str(self.data), "-R", "-X", "stream",
                "-c", "fast", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            )  # fmt: skip
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


class Process:
    """A command run as a process, its output appended to ``log``: ``start`` returns once it is
    ready (``ready_line`` logged once more than before), and fails if it dies first."""

    def __init__(
        self, argv: list[str], env: dict[str, str], log: Path, what: str, ready_line: str
    ) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.what, self.ready_line = what, ready_line
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        wait_for(self.what, self.ready, 30, self.log, self.proc)

    def ready(self) -> bool:
        return self.log.read_text(errors="replace").count(self.ready_line) >= self.starts

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)

    def close(self) -> None:
        stop(self.proc)


class Worker(Process):
    """``warehouse ingest`` as a process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        argv = [sys.executable, "-m", "warehouse.cli", "ingest"]
        super().__init__(argv, env, log, "the ingest worker connected", "connected to")


class Api(Process):
    """``warehouse serve`` as a process on a spare port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = spare_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(self.port)]
        super().__init__(argv, env, log, "the API listening", "")

    def ready(self) -> bool:
        return listening(self.port)


class Scanner(PtyScanner):
    """The e2e tests' pty scanner; an operator here scans on after a read got no beep, so a late
    beep for that read is discarded before the next scan instead of being taken for its answer."""

    def scan(self, code: str, timeout: float) -> bytes:
        with contextlib.suppress(OSError):
            while os.read(self.master, 64):
                pass
        return super().scan(code, timeout)


class Agent(Process):
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
        protocol: str = "5",
    ) -> None:
        self.name = name
        self.metrics_port = metrics_port
        self.outbox = outbox or workdir / f"{name}-outbox.db"
        self.scanner = Scanner(workdir / f"usb-Scanner_{name}-if00")
        self.config = workdir / f"{name}.toml"
        self.config.write_text(f"""
agent_id = "{name}"
site = "{site}"
heartbeat_s = 3600

[broker]
url = "mqtt://127.0.0.1:{broker_port}"
failover = {[f"mqtt://127.0.0.1:{port}" for port in failover_ports]!r}
protocol = "{protocol}"
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
        argv = [sys.executable, "-m", "warehouse_edge.cli", "run", "--config", str(self.config)]
        super().__init__(
            argv,
            {**os.environ, **(env or {})},
            workdir / f"{name}.log",
            f"agent {name} up",
            "device scanner is up",
        )

    def close(self) -> None:
        super().close()
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
