"""The demo's in-process broker with real clients: a retained message reaches only
subscribers whose filter matches its topic, however many other filters other clients hold."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import require
from tests.helpers import wait_for
from warehouse.core.embedded_broker import EmbeddedBroker


@pytest.fixture
def broker() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    embedded = EmbeddedBroker(port=port)
    embedded.start()
    yield port
    embedded.stop()


STATUS = "warehouse/v1/WH1/dock/status"


def client(port: int) -> list[str]:
    return ["-h", "127.0.0.1", "-p", str(port), "-V", "mqttv311"]


def sub(port: int, topic_filter: str) -> list[str]:
    """What ``mosquitto_sub`` receives in 1.5 s on ``topic_filter``."""
    result = subprocess.run(
        ["mosquitto_sub", *client(port), "-q", "1", "-t", topic_filter, "-W", "1.5", "-v"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout.split("\n")[:-1] if result.stdout else []


def test_retained_messages_reach_matching_filters_only(broker: int) -> None:
    require("mosquitto_sub", shutil.which("mosquitto_sub") is not None, "mosquitto-clients")
    ingest = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="like-ingest", protocol=4)
    received: list[str] = []
    ingest.on_message = lambda _c, _u, m: received.append(m.topic)
    ingest.connect("127.0.0.1", broker)
    ingest.subscribe("warehouse/v1/+/+/status", qos=1)  # held for the whole test
    ingest.loop_start()
    try:
        subprocess.run(
            ["mosquitto_pub", *client(broker), "-q", "1", "-r", "-t", STATUS, "-m", "online"],
            check=True,
            timeout=10,
        )
        wait_for(lambda: received == ["warehouse/v1/WH1/dock/status"], timeout=5)
        assert sub(broker, "nothing/matches") == []
        assert sub(broker, "other/#") == []
        assert sub(broker, "warehouse/#") == ["warehouse/v1/WH1/dock/status online"]
        assert sub(broker, "warehouse/v1/WH1/+/status") == ["warehouse/v1/WH1/dock/status online"]
    finally:
        ingest.disconnect()
        ingest.loop_stop()
