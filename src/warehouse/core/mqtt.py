"""paho-mqtt clients from a URL, with callbacks that never kill the network thread, and a
client for the ingest worker's inbound stream that reads the socket in large chunks and decodes
its QoS 1 PUBLISH packets with mqtt5 (compiled) instead of paho's Python."""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

import mqtt5
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker is and how to log in."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r} names no host")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def never_raise(func: F) -> F:
    """Log and swallow any exception: an exception in a paho callback stops its network loop."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:  # a bare except is right here: the loop must keep running
            log.exception("MQTT callback %s failed", func.__name__)
            return None

    return wrapper  # type: ignore[return-value]


class BufferedSocket:
    """A socket that reads 64 KiB at a time and writes what paho queued in one call.

    paho reads each packet with a ``recv(1)`` for its type, one per length byte and one for the
    rest, and writes each packet (a PUBACK per message received) with its own ``send``: every
    one a system call that also gives up the GIL, which the worker's batch threads then hold.
    Here ``recv`` is served from one read of the socket, ``pending()`` tells paho's loop that
    bytes are already here (as it asks of TLS sockets), and ``send`` only collects: the client
    flushes after each of paho's write passes.
    """

    CHUNK = 64 * 1024

    def __init__(self, sock: SocketLike) -> None:
        self._sock = sock
        self._in = b""
        self._pos = 0
        self._out = bytearray()

    def recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes, from the buffer or else from one read of the socket."""
        if self._pos >= len(self._in):
            self._in = self._sock.recv(max(bufsize, self.CHUNK))  # may raise BlockingIOError
            self._pos = 0
        end = min(self._pos + bufsize, len(self._in))
        chunk = self._in[self._pos : end]
        self._pos = end
        return chunk

    def unread(self) -> memoryview:
        """The bytes read from the socket and not yet consumed."""
        return memoryview(self._in)[self._pos :]

    def skip(self, count: int) -> None:
        """Consume ``count`` bytes of :meth:`unread`."""
        self._pos += count

    def fill(self) -> bool:
        """Read a chunk from the socket into the (consumed) buffer; False at end of stream.

        Raises what the socket's ``recv`` raises (BlockingIOError: nothing has arrived)."""
        data = self._sock.recv(self.CHUNK)
        self._in, self._pos = data, 0
        return bool(data)

    def send(self, data: bytes | bytearray) -> int:
        """Collect ``data`` for the next ``flush``."""
        self._out += data
        return len(data)

    def flush(self) -> None:
        """Write what the socket takes now; the rest waits for the next write pass."""
        if self._out:
            try:
                sent = self._sock.send(self._out)
            except BlockingIOError:
                return
            del self._out[:sent]

    def unsent(self) -> int:
        """Bytes collected and not yet written."""
        return len(self._out)

    def pending(self) -> int:
        """Bytes that can be read without waiting (ours, plus TLS's own buffer)."""
        inner = getattr(self._sock, "pending", None)
        return len(self._in) - self._pos + (inner() if inner is not None else 0)

    def close(self) -> None:
        """Write what is left if the socket takes it at once (a DISCONNECT), then close."""
        with contextlib.suppress(OSError):
            self.flush()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


#: A PUBLISH packet's first byte with its type and QoS bits kept (dup and retain masked off).
_PUBLISH_QOS1 = 0x32
_PUBLISH_QOS_MASK = 0xF6

#: What the client hands over: (topic, payload) of every message it decoded, in order.
MessagesHandler = Callable[[list[tuple[str, bytes]]], None]


class BufferedClient(mqtt.Client):
    """A paho client for a heavy inbound stream: chunked reads, QoS 1 messages decoded by
    mqtt5, every arrived packet handled per wake-up, replies written together.

    paho still owns the connection (CONNECT, SUBSCRIBE, keepalive, reconnect, what the worker
    publishes). What changes, all inside this class:

    - the socket is a BufferedSocket: one ``recv`` per 64 KiB, one ``send`` per write pass;
    - with ``on_messages`` set on an MQTT 5 connection, the complete QoS 1 PUBLISH packets at the
      front of the buffer are decoded by mqtt5 (Rust) and handed over as one list, and their
      PUBACKs go through paho's own queue as one write, after anything queued before them (MQTT
      wants PUBACKs in the order the messages came). paho's Python reader costs about 20 times
      as much CPU per message (docs/performance.md). Any other packet, and any packet mqtt5
      refuses, is left to paho's reader, which handles or refuses it as it always does;
    - ``loop_read`` handles every packet already received (paho handles one per wake-up of its
      loop when nothing of ours is in flight), and while it does, the PUBACKs it queues do not
      poke paho's wake-up socket pair (one more system call each), because its loop writes
      them on its next pass anyway.

    Pinned to paho 2.1-2.2, whose internals it relies on; tests/integration/test_mqtt_buffered.py
    fails if they change.
    """

    MAX_PACKETS_PER_READ = 1000

    #: Called with every batch of QoS 1 messages the fast path decoded; messages left to paho
    #: (QoS 0 or 2 ones, and all of an MQTT 3.1.1 connection's) still go to ``on_message``.
    on_messages: MessagesHandler | None = None

    def _create_socket(self) -> SocketLike:
        return BufferedSocket(super()._create_socket())

    def want_write(self) -> bool:
        """Whether packets are queued or collected bytes are not yet written."""
        sock = self._sock
        return super().want_write() or (isinstance(sock, BufferedSocket) and sock.unsent() > 0)

    def loop_write(self) -> MQTTErrorCode:
        """paho's write pass, then one write of everything it produced. A connection that is
        gone (the broker killed: EPIPE, ECONNRESET) is lost the way paho loses it on a read:
        closed, reported, and reconnected; never an exception in its network thread."""
        rc = super().loop_write()
        sock = self._sock
        if isinstance(sock, BufferedSocket):
            try:
                sock.flush()
            except OSError as exc:
                log.warning("failed to send on the MQTT socket: %s", exc)
                return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        return rc

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Handle the packets that have arrived, up to MAX_PACKETS_PER_READ passes."""
        wake, self._sockpairW = self._sockpairW, None  # our own loop writes what we queue
        try:
            for _ in range(self.MAX_PACKETS_PER_READ):
                sock = self._sock
                if sock is None:
                    return MQTTErrorCode.MQTT_ERR_NO_CONN
                if (
                    self.on_messages is not None
                    and self._protocol == mqtt.MQTTv5  # mqtt5 reads MQTT 5 packets only
                    and isinstance(sock, BufferedSocket)
                    and self._in_packet["command"] == 0  # paho is not halfway through a packet
                ):
                    if not sock.unread():
                        rc = self._fill(sock)
                        if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                            break
                        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                            return self._loop_rc_handle(rc)
                    self._read_publishes(sock)
                    if not sock.unread():
                        continue
                # one packet by paho's reader: not a QoS 1 PUBLISH, refused by mqtt5, incomplete
                rc = self._packet_read()
                if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                    break
                if rc > 0:
                    return self._loop_rc_handle(rc)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        finally:
            self._sockpairW = wake

    def _fill(self, sock: BufferedSocket) -> MQTTErrorCode:
        """Read more into the buffer, with paho's own reading of TLS and socket errors."""
        try:
            got = sock.fill()
        except (BlockingIOError, ssl.SSLWantReadError):
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except ssl.SSLWantWriteError:
            self._call_socket_register_write()
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as exc:
            log.warning("failed to receive on the MQTT socket: %s", exc)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        return MQTTErrorCode.MQTT_ERR_SUCCESS if got else MQTTErrorCode.MQTT_ERR_CONN_LOST

    def _read_publishes(self, sock: BufferedSocket) -> None:
        """Decode the complete QoS 1 PUBLISH packets at the front of the buffer, hand them over
        and queue their PUBACKs."""
        view = sock.unread()
        end = len(view)
        pos = 0
        messages: list[tuple[str, bytes]] = []
        acks = bytearray()
        while pos < end and view[pos] & _PUBLISH_QOS_MASK == _PUBLISH_QOS1:
            packet = _decode_publish(view[pos:])
            if packet is None:  # incomplete, or refused: paho's reader takes it from here
                break
            size, topic, payload, packet_id = packet
            pos += size
            messages.append((topic, payload))
            acks += mqtt5.PubAckPacket(packet_id).write()
        if not messages:
            return
        sock.skip(pos)
        with self._msgtime_mutex:
            self._last_bytes_received = time.monotonic()
        assert self.on_messages is not None
        self.on_messages(messages)
        self._packet_queue(mqtt.PUBACK, bytes(acks), 0, 0)


def _decode_publish(data: memoryview) -> tuple[int, str, bytes, int] | None:
    """(size, topic, payload, packet id) of the QoS 1 PUBLISH packet ``data`` starts with, or
    None if it is incomplete or not one mqtt5 reads without a topic alias."""
    try:
        packet, size = mqtt5.read(data)
    except (IndexError, ValueError):  # not enough bytes yet; malformed
        return None
    except BaseException as exc:
        # mqtt5 0.8 panics (pyo3's PanicException, a BaseException; the UnicodeDecodeError
        # behind it is printed as "unraisable") on a topic that is not UTF-8, which a broker
        # never forwards; leave that packet to paho's reader.
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return None
    if not isinstance(packet, mqtt5.PublishPacket) or packet.topic_alias is not None:
        return None
    if packet.packet_id is None:
        return None
    return size, packet.topic, packet.payload, packet.packet_id


def make_client(
    client_id: str,
    address: BrokerAddress,
    *,
    protocol: str = "5",
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    buffered: bool = False,
) -> mqtt.Client:
    """A paho client for MQTT 5 (or 3.1.1), logged in and with TLS when the URL asks for it;
    ``buffered`` for a client that receives a heavy stream (see BufferedClient)."""
    version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = (BufferedClient if buffered else mqtt.Client)(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=None if version == mqtt.MQTTv5 else True,
    )
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if cert_file:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_properties(session_expiry: int = 0) -> Properties | None:
    """CONNECT properties for MQTT 5: the session ends when the connection does."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry
    return props


def connect(client: mqtt.Client, address: BrokerAddress, *, keepalive: int = 30) -> None:
    """Start connecting in the background (``loop_start`` must follow); reconnects by itself."""
    if client.protocol == mqtt.MQTTv5:
        client.connect_async(
            address.host, address.port, keepalive, clean_start=True, properties=connect_properties()
        )
    else:
        client.connect_async(address.host, address.port, keepalive)
