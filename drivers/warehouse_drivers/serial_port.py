"""Serial barcode scanners (pyserial): RS-232, USB CDC-ACM and USB-serial adapters.

Use the stable ``/dev/serial/by-id/...`` name as ``port``: it survives re-plugging and reboots,
where ``/dev/ttyACM0`` may change. pyserial is imported when the driver opens.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from warehouse_drivers.base import Driver, Item, Level
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError, DriverNotInstalled
from warehouse_drivers.framing import LineFramer, Terminator, to_item


def _feedback_bytes(value: str | None, level: str) -> bytes:
    if not value:
        return b""
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise DriverConfigError(
            f"feedback.{level} must be hex bytes like '07', not {value!r}"
        ) from exc


class SerialScanner(Driver):
    """A scanner that sends one line per read over a serial port."""

    def __init__(
        self,
        name: str,
        port: str,
        baudrate: int = 9600,
        terminator: Terminator = "any",
        max_length: int = 512,
        feedback: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"serial driver {name}: unknown parameters {sorted(options)}")
        self.port, self.baudrate = port, baudrate
        self.framer = LineFramer(terminator, max_length)
        self._terminator, self._max = terminator, max_length
        self._feedback_codes = {
            level: _feedback_bytes((feedback or {}).get(level), level)
            for level in ("ok", "warn", "error")
        }
        self._serial: Any = None

    def _open(self) -> None:
        try:
            import serial  # pyserial
        except ImportError as exc:
            raise DriverNotInstalled(
                "the serial driver needs pyserial: pip install 'warehouse[edge]'"
            ) from exc
        self.framer = LineFramer(self._terminator, self._max)  # a new device, a new line
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailable(f"{self.name}: cannot open {self.port}: {exc}") from exc

    def _close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):  # a vanished device may fail to close any way
                self._serial.close()
            self._serial = None

    def _read_internal(self, timeout: float) -> list[Item]:
        import serial

        try:
            self._serial.timeout = timeout
            data = self._serial.read(1)
            if data:
                self._serial.timeout = 0
                data += self._serial.read(4096)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial's fd is gone under it after an unplug
            raise DeviceUnavailable(f"{self.name}: {self.port} failed: {exc}") from exc
        now = time.time()
        return [to_item(self.name, line, now) for line in self.framer.feed(data)]

    def _feedback(self, level: Level) -> None:
        code = self._feedback_codes[level]
        if code and self._serial is not None:
            try:
                self._serial.write(code)
            except Exception as exc:
                raise DeviceUnavailable(f"{self.name}: feedback failed: {exc}") from exc
