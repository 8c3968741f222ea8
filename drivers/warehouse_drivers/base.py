"""The driver base class: public ``read()`` does the bookkeeping, backends implement
``_open``, ``_close`` and ``_read_internal`` (python-can's ``recv``/``_recv_internal`` pattern)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

from warehouse_drivers.errors import DeviceUnavailable

if TYPE_CHECKING:
    from warehouse_drivers.decoding.ndef import NdefRecord

Level = Literal["ok", "warn", "error"]


@dataclass(frozen=True, slots=True)
class Read:
    """One complete read from a device: a barcode line, a tag, a frame's payload."""

    device: str
    data: str
    raw: bytes
    at: float  # wall clock, seconds
    uid: str | None = None  # an NFC tag's UID (hex), when the read came from one
    records: tuple[NdefRecord, ...] = ()  # every record of an NFC tag's NDEF message


@dataclass(frozen=True, slots=True)
class RejectedRead:
    """Input a driver refused (too long, not text); kept so it can be counted and reported."""

    device: str
    reason: str
    detail: str
    raw: bytes  # at most the first 64 bytes
    at: float


@dataclass(frozen=True, slots=True)
class TagReport:
    """One RFID tag seen by one antenna (readers report these many times a second)."""

    device: str
    epc: str
    antenna: int
    rssi: float
    at: float


Item = Read | RejectedRead | TagReport


class Driver(ABC):
    """A device that produces reads. Use it as a context manager, or open() and close()."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_open = False
        self._pending: deque[Item] = deque()

    def open(self) -> None:
        """Open the device; raise DeviceUnavailable if it is not there."""
        self._open()
        self.is_open = True

    def close(self) -> None:
        """Close the device; safe to call twice."""
        if self.is_open:
            self.is_open = False
            self._pending.clear()
            self._close()

    def read(self, timeout: float) -> Item | None:
        """The next read or rejected read, or None after ``timeout`` seconds without one."""
        if not self.is_open:
            raise DeviceUnavailable(f"{self.name} is not open")
        deadline = time.monotonic() + timeout
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._pending.extend(self._read_internal(remaining))
        return self._pending.popleft()

    def feedback(self, level: Level) -> None:
        """Tell the operator at this device: ok, warn or error (beep, LED). No-op by default."""
        if self.is_open:
            self._feedback(level)

    def _feedback(self, level: Level) -> None:
        return None

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _read_internal(self, timeout: float) -> list[Item]:
        """Wait up to ``timeout`` for input; return what completed (maybe nothing)."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
