"""A fake LLRP reader on 127.0.0.1 that serves recorded report byte streams. Test code only.

It answers every request with a success response (or the failure it is told to give), and after
START_ROSPEC writes a recording from ``tests/data/llrp/`` to the client in the chunk sizes the
test asks for, so messages arrive split across TCP segments or several to a segment.

The byte layout follows LLRP 1.0.1: a message header (3 reserved bits, 3 version bits, 10 type
bits, 32-bit length, 32-bit id), TLV parameters (16-bit type, 16-bit length) and TV parameters
(1 bit set, 7-bit type, fixed-size value).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterable
from pathlib import Path

RECORDINGS = Path(__file__).parent.parent / "data" / "llrp"

# message types (LLRP 1.0.1 section 16.1)
REQUESTS = {
    3: "SET_READER_CONFIG",
    14: "CLOSE_CONNECTION",
    20: "ADD_ROSPEC",
    21: "DELETE_ROSPEC",
    22: "START_ROSPEC",
    23: "STOP_ROSPEC",
    24: "ENABLE_ROSPEC",
}
RESPONSE_OF = {3: 13, 14: 4, 20: 30, 21: 31, 22: 32, 23: 33, 24: 34}
KEEPALIVE, KEEPALIVE_ACK, RO_ACCESS_REPORT, READER_EVENT_NOTIFICATION = 62, 72, 61, 63


def message(kind: int, body: bytes = b"", message_id: int = 0, version: int = 1) -> bytes:
    return struct.pack(">HII", (version << 10) | kind, 10 + len(body), message_id) + body


def tlv(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, 4 + len(body)) + body


def tv(kind: int, body: bytes) -> bytes:
    return bytes([0x80 | kind]) + body


def status(code: int = 0, text: str = "") -> bytes:
    described = text.encode()
    return tlv(287, struct.pack(">HH", code, len(described)) + described)


def connection_event(status_code: int = 0) -> bytes:
    now = struct.pack(">Q", int(time.time() * 1e6))
    return message(
        READER_EVENT_NOTIFICATION,
        tlv(246, tlv(128, now) + tlv(256, struct.pack(">H", status_code))),
    )


def tag_report(epc: str, antenna: int, rssi: int, seen: int = 1) -> bytes:
    """TagReportData: EPC-96 as a TV parameter, longer EPCs as EPCData."""
    code = bytes.fromhex(epc)
    if len(code) == 12:
        epc_param = tv(13, code)
    else:
        epc_param = tlv(241, struct.pack(">H", len(code) * 8) + code)
    return tlv(
        240,
        epc_param
        + tv(9, struct.pack(">I", 1))  # ROSpecID
        + tv(1, struct.pack(">H", antenna))
        + tv(6, struct.pack(">b", rssi))
        + tv(4, struct.pack(">Q", 1_764_000_000_000_000))  # LastSeenTimestampUTC
        + tv(8, struct.pack(">H", seen)),
    )


def report(*tags: bytes, message_id: int = 0) -> bytes:
    return message(RO_ACCESS_REPORT, b"".join(tags), message_id)


def recording(name: str) -> bytes:
    return (RECORDINGS / name).read_bytes()


class FakeReader:
    """One LLRP reader; ``serve(stream, chunks)`` sets what the next connection receives."""

    def __init__(self, stream: bytes = b"", chunks: Iterable[int] = (4096,)) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self.stream, self.chunks = stream, list(chunks)
        self.received: list[str] = []
        self.connections = 0
        self.keepalive_acks = 0
        self.refuse: dict[str, tuple[int, str]] = {}  # request name -> (status code, text)
        self.greeting = connection_event()
        self._client: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        """Write bytes to the connected client now (a keepalive, a corrupt header...)."""
        assert self._client is not None
        self._client.sendall(data)

    def drop(self) -> None:
        """Cut the connection, as a pulled network cable or a reader reboot would."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):  # already closed: its thread closes it
                client.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self.drop()
        self._server.close()
        self._thread.join(5)

    def _accept(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._client = client
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        try:
            client.sendall(self.greeting)
            while not self._stop.is_set():
                data = client.recv(65536)
                if not data:
                    return
                buffer += data
                while len(buffer) >= 10:
                    word, length, message_id = struct.unpack_from(">HII", buffer)
                    if len(buffer) < length:
                        break
                    buffer = buffer[length:]
                    self._answer(client, word & 0x3FF, message_id)
        except OSError:
            return
        finally:
            client.close()

    def _answer(self, client: socket.socket, kind: int, message_id: int) -> None:
        if kind == KEEPALIVE_ACK:
            self.keepalive_acks += 1
            return
        name = REQUESTS.get(kind, str(kind))
        self.received.append(name)
        if kind not in RESPONSE_OF:
            return
        code, text = self.refuse.get(name, (0, ""))
        client.sendall(message(RESPONSE_OF[kind], status(code, text), message_id))
        if name == "START_ROSPEC" and not code:
            self._play(client)
        if name == "CLOSE_CONNECTION":
            client.shutdown(socket.SHUT_RDWR)

    def _play(self, client: socket.socket) -> None:
        data, sizes, at = self.stream, self.chunks or [4096], 0
        for i in range(len(data)):  # as many chunks as it takes, cycling through the sizes
            if at >= len(data):
                break
            size = sizes[i % len(sizes)]
            client.sendall(data[at : at + size])
            at += size
            time.sleep(0.002)  # separate TCP segments
