"""The CodeParser port on top of the pure decoders in ``warehouse_drivers.decoding``."""

from __future__ import annotations

from warehouse.catalog.service.ports import ParsedCode, ParsedEpc
from warehouse_drivers.decoding import DecodeError, decode_barcode, decode_epc

#: The measures of a trade item that are its quantity (not a width, a depth or a gross weight).
TRADE_MEASURES = frozenset({"net weight", "length", "net volume", "area"})


def parse_code(code: str) -> ParsedCode | None:
    """GTIN-14 plus GS1 lot, serial and expiry of a barcode; ``None`` if it is not GS1 data."""
    try:
        decoded = decode_barcode(code)
    except DecodeError:
        return None
    if decoded.sscc is not None:
        return ParsedCode(sscc=decoded.sscc)
    if decoded.gtin is None:
        return None
    measure = next(
        ((m.value, m.unit) for m in decoded.measures if m.quantity in TRADE_MEASURES), None
    )
    if measure is None and decoded.variable is not None and decoded.variable.weight is not None:
        measure = (decoded.variable.weight, "kg")  # a weighed item's in-store label
    return ParsedCode(decoded.gtin, decoded.lot, decoded.serial, decoded.expiry, None, measure)


def parse_epc(epc: str) -> ParsedEpc | None:
    """An EPC as uppercase hex, with its URN, GTIN-14 and serial when it is an SGTIN."""
    try:
        decoded = decode_epc(epc)
    except DecodeError:
        return None
    return ParsedEpc(decoded.hex, decoded.uri, decoded.gtin, decoded.serial, decoded.sscc)
