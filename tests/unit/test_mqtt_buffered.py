"""The ingest worker's buffered socket: chunked reads, collected writes."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from warehouse.adapters.mqtt import BufferedSocket


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
