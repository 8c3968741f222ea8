"""Reassembling scanner codes from CAN frames (pure). Every fault is a rejected read with a
reason: truncated frames, missing, duplicated, reordered or corrupt chunks, bad CRC, timeout."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse_drivers.base import Read, RejectedRead
from warehouse_drivers.can.protocol import CHUNK_ID, DONE_ID, crc8, database
from warehouse_drivers.framing import to_item

Item = Read | RejectedRead


@dataclass
class _Transfer:
    transfer_id: int
    count: int
    started: float
    chunks: list[bytes] = field(default_factory=list)


class Reassembler:
    """Feeds on frames; returns reads and rejected reads. One scanner node per bus id."""

    def __init__(self, device: str, timeout_s: float = 0.5) -> None:
        self.device = device
        self.timeout_s = timeout_s
        self._current: _Transfer | None = None
        self._failed: int | None = None  # a transfer already rejected: ignore its other frames
        db = database()
        self._chunk = db.get_message_by_frame_id(CHUNK_ID)
        self._done = db.get_message_by_frame_id(DONE_ID)

    def frame(self, arbitration_id: int, data: bytes, at: float) -> list[Item]:
        """One received frame."""
        out = self.expire(at)
        if arbitration_id not in (CHUNK_ID, DONE_ID):
            return out  # other traffic on the bus
        message = self._chunk if arbitration_id == CHUNK_ID else self._done
        if len(data) < message.length:
            out.append(
                self._reject(
                    "truncated_frame",
                    f"{message.name} with {len(data)} of {message.length} bytes",
                    data,
                    at,
                )
            )
            return out
        fields = message.decode(data[: message.length], decode_choices=False)
        if arbitration_id == CHUNK_ID:
            out += self._on_chunk(fields, data, at)
        else:
            out += self._on_done(fields, data, at)
        return out

    def expire(self, now: float) -> list[Item]:
        """Reject a transfer that has waited longer than the timeout for its next frame."""
        current = self._current
        if current is None or now - current.started <= self.timeout_s:
            return []
        self._current = None
        self._failed = current.transfer_id
        return [
            self._reject(
                "timeout",
                f"transfer {current.transfer_id}: "
                f"{len(current.chunks)} of {current.count} chunks after "
                f"{self.timeout_s * 1000:.0f} ms",
                b"",
                now,
            )
        ]

    def _on_chunk(self, f: dict[str, int], data: bytes, at: float) -> list[Item]:
        tid, index, count, length = (
            int(f["TransferId"]),
            int(f["ChunkIndex"]),
            int(f["ChunkCount"]),
            int(f["Length"]),
        )
        payload = int(f["Data"]).to_bytes(5, "little")[:length]
        out: list[Item] = []
        current = self._current
        if current is not None and current.transfer_id != tid:
            out.append(
                self._fail(
                    f"truncated: transfer {current.transfer_id} stopped after "
                    f"{len(current.chunks)} of {current.count} chunks",
                    at,
                )
            )
            current = None
        if tid == self._failed:
            return out
        refused = self._refuse_start(tid, index, count, length, current, data, at)
        if refused is not None:
            return [*out, refused]
        if current is None:
            self._failed = None
            current = self._current = _Transfer(tid, count, at)
        placed = self._place(current, index, count, payload, at)
        return out if placed is None else [*out, placed]

    def _refuse_start(
        self,
        tid: int,
        index: int,
        count: int,
        length: int,
        current: _Transfer | None,
        data: bytes,
        at: float,
    ) -> RejectedRead | None:
        """A chunk that cannot be read, or a transfer that does not start at its first chunk:
        the rest of that transfer is refused with it."""
        if count == 0 or index >= count or not 1 <= length <= 5:
            self._failed = tid
            self._current = None
            return self._reject(
                "corrupt_frame", f"chunk {index} of {count}, length {length}", data, at
            )
        if current is None and index != 0:
            self._failed = tid
            return self._reject(
                "missing_chunks", f"transfer {tid} starts at chunk {index}", data, at
            )
        return None

    def _place(
        self, current: _Transfer, index: int, count: int, payload: bytes, at: float
    ) -> RejectedRead | None:
        """The next chunk of the transfer in progress, or why the transfer fails here."""
        tid, expected = current.transfer_id, len(current.chunks)
        if count != current.count:
            return self._fail(
                f"transfer {tid}: chunk count changed from {current.count} to {count}",
                at,
                "corrupt_frame",
            )
        if index == expected:
            current.chunks.append(payload)
            current.started = at
            return None
        if index < expected:
            reason = "duplicated_chunk" if current.chunks[index] == payload else "corrupt_frame"
            return self._fail(
                f"transfer {tid}: chunk {index} again after chunk {expected - 1}", at, reason
            )
        return self._fail(
            f"transfer {tid}: chunk {index} arrived before chunk {expected}", at, "reordered"
        )

    def _on_done(self, f: dict[str, int], data: bytes, at: float) -> list[Item]:
        tid = int(f["TransferId"])
        current = self._current
        if tid == self._failed:
            self._failed = None
            return []
        if current is None or current.transfer_id != tid:
            return [
                self._reject(
                    "unexpected_done", f"DONE for transfer {tid} without its chunks", data, at
                )
            ]
        self._current = None
        if len(current.chunks) != current.count:
            return [
                self._reject(
                    "truncated",
                    f"transfer {tid}: {len(current.chunks)} of {current.count} chunks",
                    data,
                    at,
                )
            ]
        code = b"".join(current.chunks)
        if int(f["Status"]) != 0:
            return [self._reject("scanner_error", f"status {int(f['Status'])}", code, at)]
        if len(code) != int(f["TotalLength"]):
            return [
                self._reject(
                    "length_mismatch",
                    f"{len(code)} bytes, DONE says {int(f['TotalLength'])}",
                    code,
                    at,
                )
            ]
        if crc8(code) != int(f["Crc8"]):
            return [
                self._reject(
                    "crc_mismatch",
                    f"CRC 0x{crc8(code):02x}, DONE says 0x{int(f['Crc8']):02x}",
                    code,
                    at,
                )
            ]
        return [to_item(self.device, code, at)]

    def _fail(self, detail: str, at: float, reason: str = "truncated") -> RejectedRead:
        current = self._current
        self._current = None
        self._failed = current.transfer_id if current else None
        return self._reject(reason, detail, b"", at)

    def _reject(self, reason: str, detail: str, raw: bytes, at: float) -> RejectedRead:
        return RejectedRead(self.device, reason, detail, raw[:64], at)
