"""The buffered paho client against the real Mosquitto: every message once, in order, acked.

It overrides parts of paho's loop (adapters/mqtt.py); these tests fail if a paho release
changes what it relies on.
"""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.helpers import wait_for
from warehouse.core.mqtt import BrokerAddress, BufferedClient, BufferedSocket, connect, make_client

pytestmark = pytest.mark.mosquitto
COUNT = 3000


def plain_client(host: str, port: int) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"plain-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.connect(host, port)
    client.loop_start()
    return client


@pytest.mark.parametrize("reader", ["mqtt5", "paho"])
def test_a_burst_arrives_once_in_order_and_the_broker_gets_every_puback(
    mosquitto: tuple[str, int], reader: str
) -> None:
    host, port = mosquitto
    topic = f"test/buffered/{uuid.uuid4().hex[:8]}"
    got: list[bytes] = []
    by_mqtt5 = 0
    subscribed = threading.Event()
    client = make_client(
        f"buffered-{uuid.uuid4().hex[:8]}", BrokerAddress(host, port), buffered=True
    )
    assert isinstance(client, BufferedClient)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, m: got.append(m.payload)
    if reader == "mqtt5":

        def decoded(batch: list[tuple[str, bytes]]) -> None:
            nonlocal by_mqtt5
            by_mqtt5 += len(batch)
            got.extend(payload for _, payload in batch)

        client.on_messages = decoded
    connect(client, BrokerAddress(host, port))
    client.loop_start()
    publisher = plain_client(host, port)
    try:
        assert subscribed.wait(10)
        assert isinstance(client.socket(), BufferedSocket)
        infos = [publisher.publish(topic, b"m%05d" % n, qos=1) for n in range(COUNT)]
        for info in infos:
            info.wait_for_publish(30)
        wait_for(lambda: len(got) >= COUNT, timeout=30)
        assert got == [b"m%05d" % n for n in range(COUNT)]
        # Every PUBACK went out (without them Mosquitto stops at 20 in flight, and the burst
        # above would not have arrived), and nothing of ours is left waiting to be written.
        wait_for(lambda: not client.want_write(), timeout=5)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        client.disconnect()
        client.loop_stop()
    assert len(got) == COUNT
    assert by_mqtt5 == (COUNT if reader == "mqtt5" else 0)


def test_publishing_from_another_thread_while_receiving(mosquitto: tuple[str, int]) -> None:
    """The worker publishes acks from its batch threads while paho's thread reads."""
    host, port = mosquitto
    inbound = f"test/buffered/in/{uuid.uuid4().hex[:8]}"
    outbound = f"test/buffered/out/{uuid.uuid4().hex[:8]}"
    received: list[bytes] = []
    acks: list[bytes] = []
    ready = threading.Event()
    client = make_client(
        f"buffered-{uuid.uuid4().hex[:8]}", BrokerAddress(host, port), buffered=True
    )
    client.on_connect = lambda c, *_: c.subscribe(inbound, qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda _c, _u, m: received.append(m.payload)
    client.on_messages = lambda batch: received.extend(payload for _, payload in batch)
    connect(client, BrokerAddress(host, port))
    client.loop_start()
    listener = plain_client(host, port)
    listening = threading.Event()
    listener.on_subscribe = lambda *_: listening.set()
    listener.on_message = lambda _c, _u, m: acks.append(m.payload)
    listener.subscribe(outbound, qos=1)
    try:
        assert ready.wait(10)
        assert listening.wait(10)
        sender = threading.Thread(
            target=lambda: [listener.publish(inbound, b"%d" % n, qos=1) for n in range(1000)]
        )
        sender.start()
        for n in range(200):
            client.publish(outbound, b"ack %d" % n, qos=1)
        sender.join()
        wait_for(lambda: len(received) >= 1000 and len(acks) >= 200, timeout=30)
        assert acks == [b"ack %d" % n for n in range(200)]
        assert received == [b"%d" % n for n in range(1000)]
    finally:
        listener.disconnect()
        listener.loop_stop()
        client.disconnect()
        client.loop_stop()
