"""Writes the LLRP report streams the fake reader serves (run from the repository root:
``python -m tests.data.llrp.make_recordings``). See README.md beside this file."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.edge.llrp_fake import KEEPALIVE, message, report, tag_report, tlv, tv

HERE = Path(__file__).parent
#: SGTIN-96 of GTIN 05901230001254 (demo product HDP-BT), serials 1001-1004
PALLET = [f"3035682EB8001F40000003{s:02X}" for s in range(0xE9, 0xED)]
SGTIN_198 = "3674257BF6B7A659B2C2BF100000000000000000000000000000"  # 0614141.712345.32a/b


def dock_door() -> bytes:
    """A pallet through a dock door: four tags, each read a few times on antennas 1 and 2,
    one SGTIN-198 in an EPCData parameter, and a keepalive in the middle."""
    out = b""
    for sweep in range(3):
        out += report(*(tag_report(epc, 1, -48 - i) for i, epc in enumerate(PALLET)))
        out += report(tag_report(PALLET[sweep], 2, -71))
        if sweep == 1:
            out += message(KEEPALIVE, message_id=77)
    out += report(tag_report(SGTIN_198, 1, -55))
    return out


def corrupt_message() -> bytes:
    """Good reports around three broken RO_ACCESS_REPORTs whose headers are intact."""
    good = report(*(tag_report(epc, 1, -50) for epc in PALLET))
    truncated_param = report(struct.pack(">HH", 240, 2) + bytes(20), message_id=901)
    overrun = report(struct.pack(">HH", 240, 200) + bytes(20), message_id=902)
    short_epc96 = report(tlv(240, tv(13, bytes(9))), message_id=903)
    return good + truncated_param + overrun + short_epc96 + good + good


def corrupt_header() -> bytes:
    """Good reports, then a header claiming a 3-byte message: nothing after it can be framed."""
    good = report(*(tag_report(epc, 1, -50) for epc in PALLET[:2]))
    return good + struct.pack(">HII", (1 << 10) | 61, 3, 904) + good


def main() -> None:
    for name, stream in (
        ("dock-door.bin", dock_door()),
        ("corrupt-message.bin", corrupt_message()),
        ("corrupt-header.bin", corrupt_header()),
    ):
        (HERE / name).write_bytes(stream)
        print(f"{name}: {len(stream)} bytes")


if __name__ == "__main__":
    main()
