"""Device identities on a NATS cluster: nats-server, started by the test with the files
`warehouse nats export` wrote, refuses anonymous clients, wrong passwords, revoked devices and
a device on the NATS port, and keeps each agent to its own events, status, acks and commands."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner

from tests.conftest import require
from tests.helpers import wait_for
from tests.integration.test_broker_acl import NOW, SITE, Client, register, t
from tests.nats_cluster import NATS_SERVER, NatsCluster
from warehouse.access.service import devices
from warehouse.bootstrap import Service
from warehouse.cli.root import main

INGEST_USER, INGEST_PASSWORD = "warehouse-ingest", "ingest-password-for-the-nats-test"


def export(database_url: str, directory: Path, nats_url: str) -> str:
    env = {"WAREHOUSE_NATS_URL": nats_url, "WAREHOUSE_NATS_PARTITIONS": "4"}
    args = ["--database-url", database_url, "nats", "export", str(directory), "--group", ""]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert os.stat(directory / "users.conf").st_mode & 0o777 == 0o600  # the owner's only
    return result.output


@pytest.fixture
def acl_cluster(seeded: Service, tmp_path: Path) -> Iterator[tuple[NatsCluster, dict[str, str]]]:
    require("nats-server", Path(NATS_SERVER).exists(), f"{NATS_SERVER} is missing")
    passwords = register(seeded, "agent-a", "agent-b", "agent-c")
    devices.revoke_device(seeded.uow, "agent-c", "test", NOW)
    url = f"nats://{INGEST_USER}:{INGEST_PASSWORD}@127.0.0.1:1"
    output = export(seeded.settings.database_url, tmp_path / "export", url)
    assert "2 of 2 agents" in output
    assert "no leaf nodes" in output
    users = (tmp_path / "export" / "users.conf").read_text()
    assert "agent-c" not in users
    assert INGEST_PASSWORD not in users  # hashes only
    cluster = NatsCluster(tmp_path / "nats", size=1, partitions=4, users=users)
    cluster.start()
    yield cluster, passwords
    cluster.stop()


class IngestUser:
    """The ingest user on the NATS port: what reaches the ingest stream, and acks out."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.received: list[tuple[str, bytes]] = []

    async def run(self, publish: list[tuple[str, bytes]], listen_s: float) -> None:
        nc = await nats.connect(self.url)

        async def on_message(msg: nats.aio.msg.Msg) -> None:
            self.received.append((msg.subject, msg.data))

        await nc.subscribe("warehouse.ingest.>", cb=on_message)
        await nc.flush()
        for subject, payload in publish:
            await nc.publish(subject, payload)
        await asyncio.sleep(listen_s)
        await nc.close()


def test_each_device_keeps_to_its_own_subjects(
    acl_cluster: tuple[NatsCluster, dict[str, str]],
) -> None:
    cluster, passwords = acl_cluster
    node = cluster.nodes[0]
    clients: list[Client] = []

    def client(user: str | None, password: str | None) -> Client:
        made = Client(
            node.mqtt_port, user, password, client_id=user or "anon", protocol=mqtt.MQTTv311
        )
        clients.append(made)
        return made

    try:
        assert not client(None, None).connect()  # anonymous
        assert not client("agent-a", "not its password").connect()
        assert not client("agent-c", passwords["agent-c"]).connect()  # revoked
        a = client("agent-a", passwords["agent-a"])
        b = client("agent-b", passwords["agent-b"])
        assert a.connect()
        assert b.connect()
        # A may not listen to B's commands or acks, to anyone's events, nor to the server's
        # delivery subjects; nats-server refuses each subscription outright
        for foreign in (t("agent-b", "commands"), t("agent-b", "acks"), "warehouse/v1/+/+/events",
                        "$MQTT/sub/#", "#"):  # fmt: skip
            assert not a.subscribe(foreign), foreign
        assert a.subscribe(t("agent-a", "commands"))
        assert a.subscribe(t("agent-a", "acks"))
        assert b.subscribe(t("agent-b", "acks"))
        service = IngestUser(f"nats://{INGEST_USER}:{INGEST_PASSWORD}@127.0.0.1:{node.port}")

        def devices_publish() -> None:
            time.sleep(0.5)  # the service is subscribed by then
            a.publish(t("agent-a", "events"), b"from a")
            a.publish(t("agent-b", "events"), b"a pretending to be b")
            a.publish(t("agent-b", "status"), b"a pretending to be b")
            b.publish(t("agent-b", "events"), b"from b")
            b.publish(t("agent-a", "acks"), b"forged ack")

        threading.Thread(target=devices_publish, daemon=True).start()
        answers = [("warehouse.v1.WH1.agent-a.acks", b"ack for a"),
                   ("warehouse.v1.WH1.agent-b.commands", b"command for b")]  # fmt: skip
        asyncio.run(service.run(answers, listen_s=2.0))
        assert sorted(p for _, p in service.received) == [b"from a", b"from b"]
        # the stream's subjects name the publisher's own site and agent
        assert {s.split(".", 3)[3] for s, _ in service.received} == {
            f"{SITE}.agent-a.events", f"{SITE}.agent-b.events"}  # fmt: skip
        wait_for(lambda: len(a.received) >= 1)
        time.sleep(0.5)
        assert a.received == [(t("agent-a", "acks"), b"ack for a")]
        assert b.received == []  # b's command: it subscribed to its acks only
    finally:
        for c in clients:
            c.close()


def test_a_device_cannot_use_the_nats_port(
    acl_cluster: tuple[NatsCluster, dict[str, str]],
) -> None:
    """With its own password, on the NATS protocol (where it could subscribe to the server's
    MQTT delivery subjects): refused."""
    cluster, passwords = acl_cluster
    node = cluster.nodes[0]

    def answer(user: str, password: str) -> bytes:
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as sock:
            sock.recv(4096)  # INFO
            hello = {"user": user, "pass": password, "verbose": False, "pedantic": False}
            sock.sendall(b"CONNECT " + json.dumps(hello).encode() + b"\r\nPING\r\n")
            return sock.recv(4096)

    assert answer(INGEST_USER, INGEST_PASSWORD).startswith(b"PONG")
    assert b"Authorization Violation" in answer("agent-a", passwords["agent-a"])
