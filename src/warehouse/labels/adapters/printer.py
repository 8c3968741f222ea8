"""Sending labels to a network label printer on its raw port (9100, "JetDirect"): the ZPL as
bytes over one TCP connection, closed when sent. Printers are named in the settings
(``WAREHOUSE_LABEL_PRINTERS``), never given by a request: the API does not connect where a
client points it."""

from __future__ import annotations

import socket

from warehouse.core.errors import DeviceUnreachable, NotFound


def address(printers: dict[str, str], name: str) -> tuple[str, int]:
    """The (host, port) of a configured printer; NotFound naming the field otherwise."""
    if name not in printers:
        known = ", ".join(sorted(printers)) or "none are configured (WAREHOUSE_LABEL_PRINTERS)"
        raise NotFound(
            f"printer {name!r} is not a configured label printer: {known}", field="printer"
        )
    host, _, port = printers[name].rpartition(":")
    return (host or printers[name]), int(port) if port.isdigit() else 9100


def send(host: str, port: int, data: bytes, timeout: float = 5.0) -> int:
    """Send ``data`` to the printer; return the bytes sent. A printer that cannot be reached
    is a 503 with its address, so the person printing knows which one to check."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise DeviceUnreachable(f"label printer {host}:{port} cannot be reached ({exc})") from exc
    return len(data)
