"""Splitting a byte stream into lines, with bounded memory (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from warehouse_drivers.base import Read, RejectedRead

Terminator = Literal["CR", "LF", "CRLF", "any"]


@dataclass(frozen=True, slots=True)
class Overlong:
    """A line longer than the limit; its bytes were discarded up to the next terminator."""

    size: int
    head: bytes


class LineFramer:
    """Feed bytes in, get complete lines out.

    ``any`` ends a line at CR, LF or CRLF (CRLF counts once). A line longer than ``max_length``
    is reported once as :class:`Overlong` and skipped up to its terminator, so 10 KB without a
    terminator costs ``max_length`` bytes of memory, not 10 KB. Empty lines are dropped.
    """

    def __init__(self, terminator: Terminator = "any", max_length: int = 512) -> None:
        if terminator not in ("CR", "LF", "CRLF", "any"):
            raise ValueError(f"terminator must be CR, LF, CRLF or any, not {terminator!r}")
        self.terminator = terminator
        self.max_length = max_length
        self._buffer = bytearray()
        self._skipping = 0  # bytes discarded of the current overlong line
        self._head = b""
        self._last_cr = False

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        """Add bytes; return the lines (and overlong markers) they complete."""
        out: list[bytes | Overlong] = []
        for byte in data:
            if self.terminator == "any":
                if byte == 0x0A and self._last_cr:  # the LF of a CRLF: the line already ended
                    self._last_cr = False
                    continue
                self._last_cr = byte == 0x0D
                ends = byte in (0x0A, 0x0D)
            elif self.terminator == "CRLF":
                if self._last_cr and byte != 0x0A:
                    self._append(0x0D)  # a lone CR inside a CRLF-framed line is data
                ends = self._last_cr and byte == 0x0A
                self._last_cr = byte == 0x0D and not ends
                if self._last_cr:
                    continue
            else:
                ends = byte == (0x0D if self.terminator == "CR" else 0x0A)
            if ends:
                self._finish(out)
            else:
                self._append(byte)
        return out

    def _append(self, byte: int) -> None:
        if self._skipping:
            self._skipping += 1
            return
        if len(self._buffer) >= self.max_length:
            self._head = bytes(self._buffer[:32])
            self._skipping = len(self._buffer) + 1
            self._buffer.clear()
            return
        self._buffer.append(byte)

    def _finish(self, out: list[bytes | Overlong]) -> None:
        if self._skipping:
            out.append(Overlong(self._skipping, self._head))
            self._skipping = 0
        elif self._buffer:
            out.append(bytes(self._buffer))
        self._buffer.clear()

    @property
    def buffered(self) -> int:
        """Bytes held for the line in progress (bounded by ``max_length``)."""
        return len(self._buffer)


_ALLOWED_CONTROLS = frozenset({0x1D, 0x1E, 0x04})  # GS, RS, EOT: GS1 and ISO/IEC 15434 data


def to_item(device: str, line: bytes | Overlong, at: float) -> Read | RejectedRead:
    """A framed line as a read, or a rejected read saying why (too long, not text)."""
    if isinstance(line, Overlong):
        return RejectedRead(
            device,
            "too_long",
            f"a line of {line.size} bytes is over the length limit",
            line.head,
            at,
        )
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RejectedRead(device, "not_text", f"invalid UTF-8 at byte {exc.start}", line[:64], at)
    bad = next((c for c in text if ord(c) < 0x20 and ord(c) not in _ALLOWED_CONTROLS), None)
    if bad is not None:
        return RejectedRead(
            device, "not_text", f"control character 0x{ord(bad):02x}", line[:64], at
        )
    return Read(device, text, line, at)
