"""EPCs read from UHF tags, decoded per the GS1 EPC Tag Data Standard (with epcpy).

A GS1 EPC (header 0x2C-0x3F) becomes its pure identity URN, and an SGTIN its GTIN-14 and
serial. A header outside the GS1 range is a non-GS1 EPC (ISO/customer data) and is kept raw.
A GS1 header whose length, partition or content is wrong is rejected with the reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from epcpy import ConvertException, hex_to_tag_encodable  # type: ignore[attr-defined]

from warehouse_drivers.decoding.barcode import DecodeError

_HEX = re.compile(r"^[0-9A-Fa-f]+$")
#: TDS 1.x binary headers of GS1 schemes (SGTIN-96 0x30, SSCC-96 0x31, SGLN-96 0x32, ...).
GS1_HEADERS = range(0x2C, 0x40)
_SCHEMES = {
    0x30: "sgtin-96",
    0x36: "sgtin-198",
    0x31: "sscc-96",
    0x32: "sgln-96",
    0x39: "sgln-195",
    0x33: "grai-96",
    0x37: "grai-170",
    0x34: "giai-96",
    0x38: "giai-202",
    0x2D: "gsrn-96",
    0x2C: "gdti-96",
    0x35: "gid-96",
}


@dataclass(frozen=True, slots=True)
class DecodedEpc:
    """What an EPC says. ``uri`` is None for a non-GS1 EPC, which is kept as ``hex``."""

    hex: str
    scheme: str  # e.g. "sgtin-96", or "raw" for a non-GS1 EPC
    uri: str | None = None
    gtin: str | None = None
    serial: str | None = None

    @property
    def is_gs1(self) -> bool:
        """Whether the tag carries a GS1 key."""
        return self.uri is not None


@functools.lru_cache(maxsize=65536)
def decode_epc(value: str) -> DecodedEpc:
    """Decode an EPC given as hex (as readers report it); raise DecodeError with a reason."""
    text = value.strip().removeprefix("0x").removeprefix("0X")
    if not text or not _HEX.match(text):
        raise DecodeError("not_hex", f"EPC {value!r} is not hexadecimal")
    if len(text) % 4:
        raise DecodeError(
            "bad_length", f"EPC of {len(text) * 4} bits is not a whole number of 16-bit words"
        )
    header = int(text[:2], 16)
    if header not in GS1_HEADERS:
        return DecodedEpc(text.upper(), "raw")
    try:
        epc = hex_to_tag_encodable(text)
    except ConvertException as exc:
        raise DecodeError("invalid_epc", f"header 0x{header:02X}: {exc}") from exc
    except (ValueError, IndexError, KeyError) as exc:
        raise DecodeError("invalid_epc", f"header 0x{header:02X}: {exc}") from exc
    uri = str(epc.epc_uri)
    gtin = serial = None
    if uri.startswith("urn:epc:id:sgtin:"):
        gtin = str(epc.gtin())  # type: ignore[attr-defined]
        serial = unquote(uri.rsplit(".", 1)[1])
    return DecodedEpc(text.upper(), _SCHEMES.get(header, f"gs1-0x{header:02x}"), uri, gtin, serial)
