"""Keyboard-wedge scanners read through evdev, grabbed so their keystrokes never reach a shell.

evdev is imported when the driver opens (Linux only).
"""

from __future__ import annotations

import select
import time
from typing import Any

from warehouse_drivers.base import Driver, Item, Read, RejectedRead
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError, DriverNotInstalled
from warehouse_drivers.keymap import KeyDecoder


class HidScanner(Driver):
    """A USB HID keyboard-wedge scanner on ``/dev/input/by-id/...-event-kbd``."""

    def __init__(
        self,
        name: str,
        path: str,
        grab: bool = True,
        gs_substitute: str | None = None,
        max_length: int = 512,
        **options: Any,
    ) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"hid driver {name}: unknown parameters {sorted(options)}")
        if gs_substitute is not None and len(gs_substitute) != 1:
            raise DriverConfigError("gs_substitute must be one character")
        self.path, self.grab = path, grab
        self.decoder = KeyDecoder(gs_substitute, max_length)
        self._device: Any = None

    def _open(self) -> None:
        try:
            import evdev
        except ImportError as exc:
            raise DriverNotInstalled(
                "the hid driver needs evdev (Linux): pip install 'warehouse[edge]'"
            ) from exc
        try:
            self._device = evdev.InputDevice(self.path)
            if self.grab:
                self._device.grab()  # exclusive: keystrokes stop going to the console
        except OSError as exc:
            raise DeviceUnavailable(f"{self.name}: cannot open {self.path}: {exc}") from exc
        self.decoder = KeyDecoder(self.decoder.gs_substitute, self.decoder.max_length)

    def _close(self) -> None:
        if self._device is not None:
            try:
                if self.grab:
                    self._device.ungrab()
                self._device.close()
            except OSError:
                pass
            self._device = None

    def _read_internal(self, timeout: float) -> list[Item]:
        try:
            ready, _, _ = select.select([self._device.fd], [], [], timeout)
            events = list(self._device.read()) if ready else []
        except (OSError, ValueError) as exc:
            raise DeviceUnavailable(f"{self.name}: {self.path} failed: {exc}") from exc
        return self.decode_events((e.type, e.code, e.value) for e in events)

    def decode_events(self, events: Any) -> list[Item]:
        """Key events (type, code, value) to reads; public so tests can feed synthetic events."""
        out: list[Item] = []
        now = time.time()
        for type_, code, value in events:
            result = self.decoder.event(type_, code, value)
            if isinstance(result, str):
                out.append(Read(self.name, result, result.encode(), now))
            elif isinstance(result, int):
                out.append(
                    RejectedRead(self.name, "too_long", f"{result} keys without Enter", b"", now)
                )
        return out
