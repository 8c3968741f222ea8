"""The demo's port probe binds as the broker and the API server will: a port that only holds
connections in TIME_WAIT from the last run (Ctrl-C, then ``make demo`` again) is free; a port
something listens on is not."""

from __future__ import annotations

import socket

import click
import pytest

from warehouse.demo.run import free_port


def leave_time_wait() -> int:
    """A loopback port whose only trace is a connection in TIME_WAIT (its server closed first)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = int(server.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server's end closes first: it is the one left in TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    return port


def test_a_port_in_time_wait_is_free_and_a_listened_one_is_not() -> None:
    port = leave_time_wait()
    plain = socket.socket()  # what the probe did before: refused while TIME_WAIT lasts
    with pytest.raises(OSError, match="in use"):
        plain.bind(("127.0.0.1", port))
    plain.close()
    assert free_port(port) == port
    with socket.create_server(("127.0.0.1", port)), pytest.raises(click.ClickException) as taken:
        free_port(port)
    assert f"port {port} is in use" in taken.value.message
