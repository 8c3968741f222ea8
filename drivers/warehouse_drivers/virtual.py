"""Virtual scanners: reads injected by code or replayed from a script (tests, demo, simulate)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable
from typing import Any

from warehouse_drivers.base import Driver, Item, Level, Read, TagReport
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError


class VirtualScanner(Driver):
    """Produces the reads it is given: ``inject(code)``, or a ``script`` of (delay_s, code)."""

    def __init__(self, name: str, script: Iterable[tuple[float, str]] = (), **options: Any) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"virtual driver {name}: unknown parameters {sorted(options)}")
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._script = list(script)
        self.feedback_log: list[Level] = []
        self.unplugged = False

    def inject(self, code: str) -> None:
        """Make the scanner read ``code``."""
        self._queue.put(code)

    def unplug(self) -> None:
        """Simulate the device going away; reads fail until it is opened again."""
        self.unplugged = True
        self._queue.put(None)

    def _open(self) -> None:
        self.unplugged = False
        if self._script:
            script, self._script = self._script, []
            self._replay(script)

    def _replay(self, script: list[tuple[float, str]]) -> None:
        import threading

        def play() -> None:
            for delay, code in script:
                time.sleep(delay)
                self._queue.put(code)

        threading.Thread(target=play, name=f"{self.name}-script", daemon=True).start()

    def _close(self) -> None:
        return None

    def _read_internal(self, timeout: float) -> list[Item]:
        try:
            code = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        if code is None or self.unplugged:
            raise DeviceUnavailable(f"{self.name} was unplugged")
        return [Read(self.name, code, code.encode(), time.time())]

    def _feedback(self, level: Level) -> None:
        self.feedback_log.append(level)


class VirtualTagReader(Driver):
    """An RFID reader whose tag reports are injected: ``inject_tag(epc, antenna, rssi)``."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(
                f"virtual-rfid driver {name}: unknown parameters {sorted(options)}"
            )
        self._queue: queue.Queue[TagReport] = queue.Queue()

    def inject_tag(
        self, epc: str, antenna: int = 1, rssi: float = -50.0, at: float | None = None
    ) -> None:
        """Make the reader see a tag."""
        self._queue.put(TagReport(self.name, epc, antenna, rssi, at or time.time()))

    def _open(self) -> None:
        return None

    def _close(self) -> None:
        return None

    def _read_internal(self, timeout: float) -> list[Item]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        out: list[Item] = [first]
        while len(out) < 1000:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out
