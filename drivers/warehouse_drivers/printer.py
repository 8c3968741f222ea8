"""Receipt printers and their cash drawers, over ESC/POS with python-escpos.

A printer is an output device: it takes a receipt's text (formatted by the caller, 42 columns
for 80 mm paper) and prints and cuts it; on a cash tender it also fires the drawer's kick pulse
through the printer's drawer port. Connections: ``serial`` (``devfile``, ``baudrate``), ``usb``
(``vendor_id``, ``product_id``), ``network`` (``host``, ``port``, raw port 9100), ``dummy``,
which keeps the bytes it would have sent (``output``) for tests, and ``files``, a virtual printer
for demos and dry runs that writes each job into ``directory`` twice: the ESC/POS bytes a printer
would get (``.escpos``) and what the paper would show (``.txt``, the drawer and the cut noted).
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError

log = logging.getLogger(__name__)

Connection = Literal["dummy", "serial", "usb", "network", "files"]
CONNECTIONS: tuple[str, ...] = ("dummy", "serial", "usb", "network", "files")
#: ESC p m t1 t2: the pulse on drawer pin 2 (the usual) or 5 (a second drawer).
DRAWER_PINS = (2, 5)


class EscposPrinter:
    """One ESC/POS receipt printer. Thread-safe: one receipt at a time."""

    def __init__(
        self,
        name: str,
        connection: Connection = "dummy",
        devfile: str | None = None,
        baudrate: int = 9600,
        vendor_id: int | None = None,
        product_id: int | None = None,
        host: str | None = None,
        port: int = 9100,
        timeout_s: float = 10.0,
        drawer_pin: int = 2,
        cut: bool = True,
        encoding: str = "cp437",
        directory: str | None = None,
    ) -> None:
        if connection not in CONNECTIONS:
            raise DriverConfigError(
                f"printer {name}: connection must be one of {', '.join(CONNECTIONS)}"
            )
        needs = {
            "serial": devfile,
            "usb": vendor_id and product_id,
            "network": host,
            "files": directory,
        }
        if connection in needs and not needs[connection]:
            what = {
                "serial": "devfile",
                "usb": "vendor_id and product_id",
                "network": "host",
                "files": "directory",
            }
            raise DriverConfigError(
                f"printer {name}: a {connection} printer needs {what[connection]}"
            )
        if drawer_pin not in DRAWER_PINS:
            raise DriverConfigError(f"printer {name}: drawer_pin is 2 or 5, not {drawer_pin}")
        self.name = name
        self.connection = connection
        self.devfile, self.baudrate = devfile, baudrate
        self.vendor_id, self.product_id = vendor_id, product_id
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.drawer_pin = drawer_pin
        self.cut = cut
        self.encoding = encoding
        self.directory = Path(directory) if directory else None
        self.printed = 0
        self.kicks = 0
        self._device: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        try:
            from escpos import printer as escpos
        except ImportError as exc:  # pragma: no cover - a dependency of the edge extra
            raise DeviceUnavailable(f"printer {self.name}: python-escpos is missing") from exc
        try:
            if self.connection == "serial":
                return escpos.Serial(
                    devfile=self.devfile, baudrate=self.baudrate, timeout=self.timeout_s
                )
            if self.connection == "usb":
                return escpos.Usb(
                    self.vendor_id, self.product_id, timeout=int(self.timeout_s * 1000)
                )
            if self.connection == "network":
                # python-escpos leaves the socket of a refused connection to the garbage
                # collector: a printer that is off is found out here, with nothing left open
                socket.create_connection((self.host, self.port), self.timeout_s).close()
                return escpos.Network(host=self.host, port=self.port, timeout=self.timeout_s)
            return escpos.Dummy()
        except Exception as exc:  # the library raises its own kinds for each connection
            raise DeviceUnavailable(f"printer {self.name}: {exc}") from exc

    def _printer(self) -> Any:
        if self._device is None:
            self._device = self._open()
        return self._device

    def print_receipt(self, text: str, *, open_drawer: bool = False) -> None:
        """Print ``text`` and cut; fire the drawer first when ``open_drawer``. Raises
        DeviceUnavailable when the printer cannot be reached (the sale stands regardless)."""
        with self._lock:
            device = self._printer()
            try:
                if open_drawer:
                    device.cashdraw(self.drawer_pin)
                    self.kicks += 1
                device.text(text.encode(self.encoding, "replace").decode(self.encoding))
                if self.cut:
                    device.cut()
                if self.connection == "files":
                    self._file(device, text, open_drawer)
                elif self.connection != "dummy":
                    device.close()
                    self._device = None
            except Exception as exc:
                self._device = None
                raise DeviceUnavailable(f"printer {self.name}: {exc}") from exc
            self.printed += 1

    def _file(self, device: Any, text: str, opened: bool) -> None:
        """A ``files`` printer's job, written as bytes and as what the paper shows."""
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = (
            self.directory / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{self.name}-{self.printed + 1:05d}"
        )
        stem.with_suffix(".escpos").write_bytes(bytes(device.output))
        paper = ("[drawer opened]\n" if opened else "") + text.rstrip("\n") + "\n"
        stem.with_suffix(".txt").write_text(paper + ("[cut]\n" if self.cut else ""), "utf-8")
        self._device = None  # the next job starts on a clean page

    def kick(self) -> None:
        """Open the cash drawer (a no-sale)."""
        with self._lock:
            try:
                self._printer().cashdraw(self.drawer_pin)
            except Exception as exc:
                self._device = None
                raise DeviceUnavailable(f"printer {self.name}: {exc}") from exc
            self.kicks += 1

    @property
    def output(self) -> bytes:
        """What a ``dummy`` printer was sent so far (empty for the others)."""
        if self.connection != "dummy" or self._device is None:
            return b""
        return bytes(self._device.output)

    def close(self) -> None:
        with self._lock:
            if self._device is not None and self.connection != "dummy":
                try:
                    self._device.close()
                finally:
                    self._device = None
