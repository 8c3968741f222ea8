"""The scanner node's frame layout (``scanner.dbc``), with cantools, and its CRC (pure).

A code of up to 75 bytes travels as SCANNER_CHUNK frames 0..n-1 (in order, 1-5 bytes each)
followed by a SCANNER_DONE frame carrying the total length and a CRC-8 of the whole code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

CHUNK_ID, DONE_ID = 0x510, 0x511
CHUNK_BYTES, MAX_CHUNKS = 5, 15
MAX_CODE = CHUNK_BYTES * MAX_CHUNKS


@functools.cache
def database() -> Any:
    """The shipped DBC, loaded once (cantools is imported here, lazily)."""
    import cantools

    with resources.as_file(resources.files("warehouse_drivers.can") / "scanner.dbc") as path:
        return cantools.database.load_file(str(path))


def crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x07, initial value 0 (as the scanner node computes it)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    """A CAN frame as the protocol sees it."""

    arbitration_id: int
    data: bytes


def frames_for(code: bytes, transfer_id: int, status: int = 0) -> list[Frame]:
    """The frames a scanner node sends for ``code`` (the simulated node and tests use this)."""
    if not 0 < len(code) <= MAX_CODE:
        raise ValueError(f"a code is 1 to {MAX_CODE} bytes, not {len(code)}")
    db = database()
    chunk, done = db.get_message_by_frame_id(CHUNK_ID), db.get_message_by_frame_id(DONE_ID)
    parts = [code[i : i + CHUNK_BYTES] for i in range(0, len(code), CHUNK_BYTES)]
    frames = [
        Frame(
            CHUNK_ID,
            bytes(
                chunk.encode(
                    {
                        "TransferId": transfer_id % 256,
                        "ChunkIndex": index,
                        "ChunkCount": len(parts),
                        "Length": len(part),
                        "Data": int.from_bytes(part, "little"),
                    }
                )
            ),
        )
        for index, part in enumerate(parts)
    ]
    frames.append(
        Frame(
            DONE_ID,
            bytes(
                done.encode(
                    {
                        "TransferId": transfer_id % 256,
                        "TotalLength": len(code),
                        "Crc8": crc8(code),
                        "Status": status,
                    }
                )
            ),
        )
    )
    return frames
