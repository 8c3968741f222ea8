"""Device identities at the broker: a real Mosquitto, started by the test on a spare loopback
port with the files `warehouse mqtt export-acl` wrote, refuses anonymous clients and revoked
devices, keeps each agent to its own topics, and lets the ingest worker's user do its work;
then the same over TLS, with a CA and certificates made by the test, through the real edge
agent and ingest worker."""

from __future__ import annotations

import grp
import shutil
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import make_settings, require
from tests.helpers import wait_for
from warehouse import contracts
from warehouse.access.service import devices
from warehouse.bootstrap import Service, bootstrap
from warehouse.cli.root import main
from warehouse.contracts.topics import PREFIX
from warehouse.ingest.worker.worker import IngestWorker
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = pytest.mark.mosquitto
SITE = "WH1"
INGEST_USER, INGEST_PASSWORD = "warehouse-ingest", "ingest-password-for-the-test"
NOW = datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AclBroker:
    """Mosquitto with the exported password and ACL files (and optionally TLS)."""

    def __init__(self, workdir: Path, files: Path, tls: dict[str, Path] | None = None) -> None:
        self.port = free_port()
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {files / 'passwd'}",
            f"acl_file {files / 'acl'}",
            "persistence false",
            "user mosquitto",  # as Debian runs it: the files are read after dropping to it
            f"listener {self.port} 127.0.0.1",
        ]
        if tls:
            lines += [f"{k} {v}" for k, v in tls.items()]
            lines.append("require_certificate true")
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = workdir / "mosquitto.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)], stdout=self._out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._out.close()


class Client:
    """A paho client that records what it receives and how its requests were answered."""

    def __init__(
        self,
        port: int,
        user: str | None,
        password: str | None,
        tls: ssl.SSLContext | None = None,
        client_id: str = "",
        protocol: int = mqtt.MQTTv5,
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol
        )
        if user:
            self.client.username_pw_set(user, password)
        if tls:
            self.client.tls_set_context(tls)
        self.received: list[tuple[str, bytes]] = []
        self.granted: list[Any] = []
        self.connack: Any = None
        self.answered = threading.Event()
        self.subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.received.append((m.topic, m.payload))
        self.client.on_subscribe = self._on_subscribe
        self.disconnected = threading.Event()  # set when the broker ends the connection
        self.client.on_disconnect = lambda *_: self.disconnected.set()
        self.port = port

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connack = reason
        self.answered.set()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
        self.granted = list(codes)
        self.subscribed.set()

    def connect(self) -> bool:
        try:
            self.client.connect("127.0.0.1", self.port)
        except (OSError, ssl.SSLError):
            self.close()
            return False
        self.client.loop_start()
        self.answered.wait(10)
        return self.connack is not None and not self.connack.is_failure

    def subscribe(self, topic: str) -> bool:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10)
        return not self.granted[0].is_failure

    def publish(self, topic: str, payload: bytes = b"x") -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:  # a TLS handshake that failed leaves it open
            sock.close()


def register(service: Service, *agents: str) -> dict[str, str]:
    return {
        a: devices.register_device(service.uow, service.credentials, a, SITE, "test", NOW)[1]
        for a in agents
    }


def export(database_url: str, directory: Path) -> None:
    mqtt_url = f"mqtt://{INGEST_USER}:{INGEST_PASSWORD}@127.0.0.1:1"
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            database_url,
            "--mqtt-url",
            mqtt_url,
            "mqtt",
            "export-acl",
            str(directory),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("passwd", "acl"):  # secrets: the owner writes, the broker's group reads
        stat = (directory / name).stat()
        assert (stat.st_mode & 0o777, grp.getgrgid(stat.st_gid).gr_name) == (0o640, "mosquitto")


@pytest.fixture
def mosquitto_binary() -> None:
    require("mosquitto", shutil.which("mosquitto") is not None, "the mosquitto binary is missing")


def t(agent: str, channel: contracts.Channel) -> str:
    return contracts.topic(SITE, agent, channel)


def test_each_agent_keeps_to_its_own_topics(
    seeded: Service, broker_dir: Path, mosquitto_binary: None
) -> None:
    passwords = register(seeded, "agent-a", "agent-b", "agent-c")
    devices.revoke_device(seeded.uow, "agent-c", "test", NOW)
    export(seeded.settings.database_url, broker_dir / "acl")
    acl = (broker_dir / "acl" / "acl").read_text()
    assert "agent-c" not in acl
    broker = AclBroker(broker_dir, broker_dir / "acl")
    clients: list[Client] = []

    def client(user: str | None, password: str | None) -> Client:
        made = Client(broker.port, user, password)
        clients.append(made)
        return made

    try:
        assert not client(None, None).connect()  # anonymous
        assert not client("agent-a", "not its password").connect()
        assert not client("agent-c", passwords["agent-c"]).connect()  # revoked
        ingest = client(INGEST_USER, INGEST_PASSWORD)
        a = client("agent-a", passwords["agent-a"])
        b = client("agent-b", passwords["agent-b"])
        assert ingest.connect()
        assert a.connect()
        assert b.connect()
        # the ingest user reads every agent's events and status (in its shared group too)
        assert ingest.subscribe(f"$share/warehouse-ingest/{PREFIX}/+/+/events")
        assert ingest.subscribe(f"{PREFIX}/+/+/status")
        # A may not listen to B's commands and acks, nor to anyone's events: Mosquitto 2.0
        # grants such a subscription and delivers nothing on it (checked below)
        for foreign in (t("agent-b", "commands"), t("agent-b", "acks"), f"{PREFIX}/+/+/events"):
            a.subscribe(foreign)
        assert a.subscribe(t("agent-a", "commands"))
        assert a.subscribe(t("agent-a", "acks"))
        assert b.subscribe(t("agent-b", "commands"))
        assert b.subscribe(t("agent-b", "acks"))
        a.publish(t("agent-a", "events"), b"from a")
        a.publish(t("agent-b", "events"), b"a pretending to be b")
        a.publish(t("agent-b", "status"), b"a pretending to be b")
        b.publish(t("agent-b", "events"), b"from b")
        # the ingest user answers each agent on its own topics
        ingest.publish(t("agent-a", "acks"), b"ack for a")
        ingest.publish(t("agent-b", "commands"), b"command for b")
        wait_for(lambda: len(ingest.received) >= 2 and len(a.received) >= 1)
        wait_for(lambda: len(b.received) >= 1)
        time.sleep(0.5)  # anything refused would have arrived by now
        assert sorted(p for _, p in ingest.received) == [b"from a", b"from b"]
        assert a.received == [(t("agent-a", "acks"), b"ack for a")]
        assert b.received == [(t("agent-b", "commands"), b"command for b")]
        # agents may not speak for the service either
        b.publish(t("agent-a", "acks"), b"forged ack")
        time.sleep(0.5)
        assert a.received == [(t("agent-a", "acks"), b"ack for a")]
    finally:
        for c in clients:
            c.close()
        broker.stop()


@pytest.fixture
def tls_files(broker_dir: Path) -> dict[str, Path]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    agent = ca.issue_cert("agent-a")
    files = {
        "ca": broker_dir / "ca.crt",
        "server_cert": broker_dir / "server.crt",
        "server_key": broker_dir / "server.key",
        "agent_cert": broker_dir / "agent.crt",
        "agent_key": broker_dir / "agent.key",
    }
    ca.cert_pem.write_to_path(files["ca"])
    server.private_key_pem.write_to_path(files["server_key"])
    server.cert_chain_pems[0].write_to_path(files["server_cert"])
    agent.private_key_pem.write_to_path(files["agent_key"])
    agent.cert_chain_pems[0].write_to_path(files["agent_cert"])
    return files


def test_over_tls_the_agent_and_the_ingest_worker_work_and_strangers_do_not(
    seeded: Service,
    tmp_path: Path,
    broker_dir: Path,
    mosquitto_binary: None,
    tls_files: dict[str, Path],
) -> None:
    passwords = register(seeded, "agent-a")
    export(seeded.settings.database_url, broker_dir / "acl")
    broker = AclBroker(
        broker_dir,
        broker_dir / "acl",
        tls={
            "cafile": tls_files["ca"],
            "certfile": tls_files["server_cert"],
            "keyfile": tls_files["server_key"],
        },
    )
    ca_only = ssl.create_default_context(cafile=str(tls_files["ca"]))
    with_cert = ssl.create_default_context(cafile=str(tls_files["ca"]))
    with_cert.load_cert_chain(str(tls_files["agent_cert"]), str(tls_files["agent_key"]))
    untrusting = ssl.create_default_context()  # does not know the test's CA
    settings = make_settings(
        seeded.settings.database_url,
        mqtt_url=f"mqtts://{INGEST_USER}:{INGEST_PASSWORD}@127.0.0.1:{broker.port}",
        mqtt_ca_file=tls_files["ca"],
        mqtt_cert_file=tls_files["agent_cert"],  # the broker requires one of every client
        mqtt_key_file=tls_files["agent_key"],
        require_registered_agents=True,
    )
    stop = threading.Event()
    threads: list[threading.Thread] = []
    worker_service = bootstrap(settings, catalog_ttl=0)
    try:
        # a client that does not trust the test's CA refuses the broker
        with (
            socket.create_connection(("127.0.0.1", broker.port), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            untrusting.wrap_socket(raw, server_hostname="127.0.0.1")
        refused = [
            Client(broker.port, "agent-a", passwords["agent-a"], ca_only),  # no client cert
            Client(broker.port, None, None, with_cert),  # a certificate is not a login
        ]
        for client in refused:
            assert not client.connect()
            client.close()
        # mosquitto_passwd's hash of the ingest password works as ours does
        worker = IngestWorker(worker_service, client_id="ingest-tls")
        threads.append(threading.Thread(target=worker.run, args=(stop,), daemon=True))
        threads[-1].start()
        assert worker.connected.wait(15), broker.log.read_text()
        config = AgentConfig(
            agent_id="agent-a",
            site=SITE,
            heartbeat_s=1,
            broker={
                "url": f"mqtts://127.0.0.1:{broker.port}",
                "username": "agent-a",
                "password": passwords["agent-a"],
                "ca_file": tls_files["ca"],
                "cert_file": tls_files["agent_cert"],
                "key_file": tls_files["agent_key"],
            },
            outbox={"path": tmp_path / "outbox.db", "ack_timeout_s": 2},
            stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
            devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
        )
        scanner = VirtualScanner("scanner-1")
        agent = Agent(config, drivers={"scanner-1": scanner})
        threads.append(threading.Thread(target=agent.run, args=(stop,), daemon=True))
        threads[-1].start()
        assert agent.publisher.connected.wait(15), broker.log.read_text()
        scanner.inject("]C1010590123000100110L1")
        wait_for(lambda: agent.outbox.stats().last_acked_seq >= 1, timeout=20)
        assert agent.outbox.stats().pending == 0
        with seeded.engine.connect() as conn:
            from warehouse.stock.adapters import movement_queries

            moved = movement_queries.movements(conn, agent_id="agent-a", limit=10).items
        assert len(moved) == 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        worker_service.close()
        broker.stop()
