"""paho-mqtt clients from a URL, with callbacks that never kill the network thread, and a
client that reads the socket in large chunks for the ingest worker's inbound stream."""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

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
    password: str | None = None

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


class BufferedClient(mqtt.Client):
    """A paho client for a heavy inbound stream: chunked reads, every arrived packet handled
    per wake-up, replies written together.

    Three changes to paho's loop, all inside this class: the socket is a BufferedSocket;
    ``loop_read`` handles every packet already received (paho handles one per wake-up of its
    loop when nothing of ours is in flight); and while it does, the PUBACKs it queues do not
    poke paho's wake-up socket pair (one more system call each), because its loop writes them
    on its next pass anyway. Measured on a drained backlog: 21 µs of CPU per QoS 1 message
    instead of 34-38 µs, and 0.3 µs of it in the kernel instead of 9-11 (docs/performance.md).
    Pinned to paho 2.1-2.2, whose internals it relies on; tests/integration/test_mqtt_buffered.py
    fails if they change.
    """

    MAX_PACKETS_PER_READ = 1000

    def _create_socket(self) -> SocketLike:
        return BufferedSocket(super()._create_socket())

    def want_write(self) -> bool:
        """Whether packets are queued or collected bytes are not yet written."""
        sock = self._sock
        return super().want_write() or (isinstance(sock, BufferedSocket) and sock.unsent() > 0)

    def loop_write(self) -> MQTTErrorCode:
        """paho's write pass, then one write of everything it produced."""
        try:
            return super().loop_write()
        finally:
            sock = self._sock
            if isinstance(sock, BufferedSocket):
                sock.flush()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Handle the packets that have arrived, up to MAX_PACKETS_PER_READ."""
        wake, self._sockpairW = self._sockpairW, None  # our own loop writes what we queue
        try:
            for _ in range(self.MAX_PACKETS_PER_READ):
                if self._sock is None:
                    return MQTTErrorCode.MQTT_ERR_NO_CONN
                rc = self._packet_read()
                if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                    break
                if rc > 0:
                    return self._loop_rc_handle(rc)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        finally:
            self._sockpairW = wake


def make_client(
    client_id: str,
    address: BrokerAddress,
    *,
    protocol: str = "5",
    ca_file: Path | None = None,
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
