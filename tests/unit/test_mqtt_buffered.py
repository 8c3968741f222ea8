"""The ingest worker's buffered socket (chunked reads, collected writes) and its client's fast
path for QoS 1 PUBLISH packets."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import mqtt5
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import MQTTErrorCode

from warehouse.core.mqtt import (
    BrokerAddress,
    BufferedClient,
    BufferedSocket,
    make_client,
    never_raise,
)


@pytest.fixture
def pair() -> Iterator[tuple[BufferedSocket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    yield BufferedSocket(ours), theirs
    ours.close()
    theirs.close()


class CountingSocket:
    """Counts the reads that reach the real socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reads = 0

    def recv(self, bufsize: int) -> bytes:
        self.reads += 1
        return self.sock.recv(bufsize)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def test_small_reads_are_served_from_one_read_of_the_socket() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        counting = CountingSocket(ours)
        buffered = BufferedSocket(counting)  # type: ignore[arg-type]
        packets = [bytes([0x30, 5]) + b"hello", bytes([0x30, 3]) + b"abc"]
        theirs.sendall(b"".join(packets))
        got = [buffered.recv(1), buffered.recv(1), buffered.recv(5)]
        assert buffered.pending() == 5
        got += [buffered.recv(1), buffered.recv(1), buffered.recv(10)]  # asks more than is left
        assert got == [b"\x30", b"\x05", b"hello", b"\x30", b"\x03", b"abc"]
        assert counting.reads == 1
        assert buffered.pending() == 0
        with pytest.raises(BlockingIOError):
            buffered.recv(1)  # nothing buffered and nothing arrived: paho's "try again"


def test_a_closed_peer_reads_as_end_of_stream(pair: tuple[BufferedSocket, socket.socket]) -> None:
    buffered, theirs = pair
    theirs.sendall(b"xy")
    theirs.close()
    assert buffered.recv(1) == b"x"
    assert buffered.recv(5) == b"y"
    assert buffered.recv(1) == b""  # paho treats this as a lost connection


def test_writes_are_collected_and_flushed_together(
    pair: tuple[BufferedSocket, socket.socket],
) -> None:
    buffered, theirs = pair
    assert buffered.send(b"\x40\x02\x00\x01") == 4  # paho sees each packet as written
    assert buffered.send(b"\x40\x02\x00\x02") == 4
    assert buffered.unsent() == 8
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)  # nothing has been written yet
    buffered.flush()
    assert buffered.unsent() == 0
    assert theirs.recv(100) == b"\x40\x02\x00\x01\x40\x02\x00\x02"


def test_what_the_socket_does_not_take_waits_for_the_next_flush(
    pair: tuple[BufferedSocket, socket.socket],
) -> None:
    buffered, theirs = pair
    blob = bytes(range(256)) * 40_000  # ~10 MB, more than a socket buffer holds
    buffered.send(blob)
    buffered.flush()
    assert 0 < buffered.unsent() < len(blob)
    received = bytearray()
    theirs.settimeout(5)
    while len(received) < len(blob):
        received += theirs.recv(1 << 20)
        buffered.flush()  # each write pass sends what now fits
    assert bytes(received) == blob
    assert buffered.unsent() == 0


# --- the client's fast path: QoS 1 PUBLISH packets decoded by mqtt5 ---------------------------


def publish(topic: str, payload: bytes, qos: int = 1, packet_id: int = 0, **kw: object) -> bytes:
    qos_value = mqtt5.QoS(qos)
    return mqtt5.PublishPacket(
        topic=topic, payload=payload, qos=qos_value, packet_id=packet_id or None, **kw
    ).write()


class Wired:
    """A BufferedClient on one end of a socket pair, as if connected; the test is the broker."""

    def __init__(self, protocol: str = "5") -> None:
        ours, self.broker = socket.socketpair()
        ours.setblocking(False)
        self.broker.settimeout(5)
        self.client = make_client(
            "fast-path", BrokerAddress("127.0.0.1", 1), protocol=protocol, buffered=True
        )
        assert isinstance(self.client, BufferedClient)
        self.delivered: list[tuple[str, str, bytes]] = []  # (path, topic, payload)
        self.client.on_messages = lambda batch: self.delivered.extend(
            ("mqtt5", t, p) for t, p in batch
        )
        self.client.on_message = never_raise(
            lambda _c, _u, m: self.delivered.append(("paho", m.topic, bytes(m.payload)))
        )
        self.client._sock = BufferedSocket(ours)  # what paho's connect would have set
        self.client._state = mqtt._ConnectionState.MQTT_CS_CONNECTED

    def feed(self, data: bytes) -> None:
        """The broker sends ``data``; the client reads and writes once, as one loop pass."""
        self.broker.sendall(data)
        assert self.client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
        self.client.loop_write()

    def acks(self) -> list[int]:
        """Packet ids of the PUBACKs the client wrote, in order."""
        self.broker.setblocking(False)
        data = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := self.broker.recv(65536):
                data += chunk
        self.broker.settimeout(5)
        ids, view = [], memoryview(data)
        while view:
            packet, size = mqtt5.read(view)
            assert isinstance(packet, mqtt5.PubAckPacket)
            ids.append(packet.packet_id)
            view = view[size:]
        return ids

    def close(self) -> None:
        self.client._sock_close()
        self.broker.close()


@pytest.fixture
def wired() -> Iterator[Wired]:
    w = Wired()
    yield w
    w.close()


def test_qos1_publishes_are_decoded_in_bulk_and_acked_in_order(wired: Wired) -> None:
    stream = b"".join(publish(f"t/{n}", b"p%d" % n, packet_id=n) for n in range(1, 201))
    wired.feed(stream)
    assert [(t, p) for _, t, p in wired.delivered] == [
        (f"t/{n}", b"p%d" % n) for n in range(1, 201)
    ]
    assert sum(1 for path, _, _ in wired.delivered if path == "mqtt5") == 200
    assert wired.acks() == list(range(1, 201))


def test_other_packets_in_between_go_to_paho_and_the_order_holds(wired: Wired) -> None:
    stream = b"".join(
        [
            publish("a", b"1", packet_id=1),
            publish("b", b"2", packet_id=2),
            mqtt5.PingRespPacket().write(),  # not a PUBLISH: paho's reader
            publish("c", b"3", qos=0),  # QoS 0: paho's reader, no PUBACK
            publish("d", b"4", packet_id=3, retain=True, duplicate=True),
            publish("e", b"5", packet_id=4, user_properties=[("k", "v")]),
        ]
    )
    wired.feed(stream)
    assert wired.delivered == [
        ("mqtt5", "a", b"1"),
        ("mqtt5", "b", b"2"),
        ("paho", "c", b"3"),
        ("mqtt5", "d", b"4"),
        ("mqtt5", "e", b"5"),
    ]
    assert wired.acks() == [1, 2, 3, 4]


def test_a_packet_split_across_reads_is_delivered_once(wired: Wired) -> None:
    first, second = publish("x", b"A" * 300, packet_id=7), publish("y", b"B", packet_id=8)
    wired.feed(first[:100])
    assert wired.delivered == []
    wired.feed(first[100:] + second)
    assert [(t, p) for _, t, p in wired.delivered] == [("x", b"A" * 300), ("y", b"B")]
    assert wired.acks() == [7, 8]


# mqtt5 0.8 prints the decoding error behind its panic as "unraisable" before raising
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_packet_mqtt5_refuses_is_left_to_paho_and_reading_goes_on(wired: Wired) -> None:
    bad = bytearray(publish("zz", b"bad", packet_id=2))
    bad[4] = 0xFF  # a topic that is not UTF-8: mqtt5 0.8 panics on it, paho reads it
    wired.feed(publish("ok1", b"1", packet_id=1) + bytes(bad) + publish("ok2", b"2", packet_id=3))
    assert [(path, t) for path, t, _ in wired.delivered] == [("mqtt5", "ok1"), ("mqtt5", "ok2")]
    assert wired.acks() == [1, 2, 3]  # paho acked the bad one, its callback failed and was logged


def test_a_closed_connection_is_reported_as_lost(wired: Wired) -> None:
    wired.broker.close()
    assert wired.client.loop_read() == MQTTErrorCode.MQTT_ERR_CONN_LOST


def test_a_write_to_a_broken_connection_is_reported_as_lost(wired: Wired) -> None:
    """A broker killed with PUBACKs still to be written: EPIPE on the flush. The client reports
    the connection lost (and reconnects) instead of ending its network thread with the error."""
    lost: list[object] = []
    wired.client.on_disconnect = lambda *args: lost.append(args)
    wired.broker.close()
    sock = wired.client._sock
    assert isinstance(sock, BufferedSocket)
    sock.send(mqtt5.PubAckPacket(7).write())  # collected by a write pass, not yet flushed
    assert wired.client.loop_write() == MQTTErrorCode.MQTT_ERR_CONN_LOST
    assert len(lost) == 1


def publish_311(topic: str, payload: bytes, packet_id: int) -> bytes:
    """An MQTT 3.1.1 QoS 1 PUBLISH: no properties between packet id and payload."""
    body = len(topic).to_bytes(2, "big") + topic.encode() + packet_id.to_bytes(2, "big") + payload
    assert len(body) < 128
    return bytes([0x32, len(body)]) + body


def test_an_mqtt_311_connection_is_read_by_paho_alone() -> None:
    """mqtt5 reads MQTT 5 packets; on 3.1.1 it would take a payload's first byte for the
    properties' length (the demo's broker speaks 3.1.1)."""
    wired = Wired(protocol="3.1.1")
    try:
        payloads = [b'{"v": 1}', b"\x00\x00plain", b"{}"]
        wired.feed(b"".join(publish_311("t", p, n) for n, p in enumerate(payloads, start=1)))
        assert wired.delivered == [("paho", "t", p) for p in payloads]
        assert wired.acks() == [1, 2, 3]
    finally:
        wired.close()
