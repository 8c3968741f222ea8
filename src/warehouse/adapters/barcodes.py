"""The CodeParser port on top of the pure decoders in ``warehouse_drivers.decoding``."""

from __future__ import annotations

from warehouse.service_layer.ports import ParsedCode
from warehouse_drivers.decoding import DecodeError, decode_barcode


def parse_code(code: str) -> ParsedCode | None:
    """GTIN-14 plus GS1 lot, serial and expiry of a barcode; ``None`` if it is not GS1 data."""
    try:
        decoded = decode_barcode(code)
    except DecodeError:
        return None
    if decoded.gtin is None:
        return None
    return ParsedCode(decoded.gtin, decoded.lot, decoded.serial, decoded.expiry)
