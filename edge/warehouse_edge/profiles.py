"""Station profiles: what a read means at a station (pure).

Control labels change the station's state: an order or pick-list barcode (``order_pattern``),
a location label (``LOC:WH1-A-01``), a quantity label (``QTY:6``, for the next item only).
Item reads become contract messages:

| mode      | an item read becomes                                                       |
|-----------|----------------------------------------------------------------------------|
| receiving | ``receive`` into the station's location (with the scanned PO, if any)       |
| putaway   | ``transfer`` from the station's location to the last scanned location      |
| picking   | ``pick`` from the scanned (or configured) location to the station, for the order |
| packing   | ``scan`` at the station, for the order (the service checks it was picked)  |
| shipping  | ``ship`` from the station to the customer, for the order                   |
| pos       | ``sale`` from the register to the customer                                 |
| counting  | ``scan`` at the counted location, one per unit (repeats count)             |
| lookup    | ``scan``                                                                   |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from warehouse.contracts import MovementData, ScanData
from warehouse_drivers import DecodedBarcode, DecodeError, Level, decode_barcode
from warehouse_edge.config import Station

Message = MovementData | ScanData


@dataclass
class StationState:
    """What a station remembers between reads."""

    mode: str
    location: str | None = None  # the last scanned location label
    order_ref: str | None = None
    next_qty: Decimal | None = None


@dataclass
class Outcome:
    """What one read produced: messages to send, and what to tell the operator."""

    messages: list[Message] = field(default_factory=list)
    level: Level = "ok"
    text: str = ""


def interpret(
    station: Station, state: StationState, code: str, rcn_region: str | None = None
) -> Outcome:
    """Turn one read at ``station`` into messages; update ``state`` for control labels.
    ``rcn_region`` names the site's rules for price- and weight-embedded barcodes."""
    control = _control(station, state, code)
    if control is not None:
        return control
    try:
        decoded = decode_barcode(code, rcn_region)
    except DecodeError as exc:
        return Outcome(level="error", text=f"unreadable code: {exc.detail}")
    qty, state.next_qty = state.next_qty or station.default_qty, None
    return _MODES[state.mode](station, state, code, decoded, qty)


def _control(station: Station, state: StationState, code: str) -> Outcome | None:
    if station.location_prefix and code.startswith(station.location_prefix):
        location = code[len(station.location_prefix) :].strip()
        if not location:
            return Outcome(level="error", text="location label without a location")
        state.location = location
        return Outcome(text=f"location {location}")
    if station.qty_prefix and code.startswith(station.qty_prefix):
        try:
            qty = Decimal(code[len(station.qty_prefix) :].strip())
        except InvalidOperation:
            qty = Decimal(0)
        if qty <= 0 or qty != qty.quantize(Decimal("0.000001")):
            return Outcome(level="error", text=f"bad quantity label {code!r}")
        state.next_qty = qty
        return Outcome(text=f"quantity {qty} for the next item")
    if re.fullmatch(station.order_pattern, code):
        state.order_ref = code
        return Outcome(text=f"order {code}")
    return None


def _item(code: str, decoded: DecodedBarcode) -> dict[str, object]:
    return {
        "code": code,
        "gtin": decoded.gtin,
        "lot": decoded.lot,
        "serial": decoded.serial,
        "expiry": decoded.expiry,
    }


def _movement(
    kind: str,
    code: str,
    decoded: DecodedBarcode,
    qty: Decimal,
    src: str | None,
    dst: str | None,
    order_ref: str | None,
) -> Outcome:
    data = MovementData.model_validate(
        {
            "kind": kind,
            **_item(code, decoded),
            "qty": qty,
            "from_location": src,
            "to_location": dst,
            "order_ref": order_ref,
        }
    )
    return Outcome([data])


def _scan(
    code: str, decoded: DecodedBarcode, location: str | None, order_ref: str | None = None
) -> Outcome:
    symbology = decoded.symbology
    return Outcome(
        [
            ScanData.model_validate(
                {
                    **_item(code, decoded),
                    "symbology": symbology,
                    "location": location,
                    "order_ref": order_ref,
                }
            )
        ]
    )


def _receiving(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    order = state.order_ref if state.order_ref and state.order_ref.startswith("PO-") else None
    return _movement("receive", code, d, qty, None, st.location, order)


def _putaway(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    if state.location is None:
        return Outcome(level="error", text="scan the destination location first")
    return _movement("transfer", code, d, qty, st.location, state.location, None)


def _picking(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    if state.order_ref is None:
        return Outcome(level="error", text="scan the order or pick list first")
    source = state.location or st.pick_from
    if source is None:
        return Outcome(level="error", text="scan the location you pick from")
    return _movement("pick", code, d, qty, source, st.location, state.order_ref)


def _packing(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    return _scan(code, d, st.location, state.order_ref)


def _shipping(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    return _movement("ship", code, d, qty, st.location, None, state.order_ref)


def _pos(st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal) -> Outcome:
    return _movement("sale", code, d, qty, st.location, None, None)


def _counting(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    return _scan(code, d, state.location or st.location)


def _lookup(
    st: Station, state: StationState, code: str, d: DecodedBarcode, qty: Decimal
) -> Outcome:
    return _scan(code, d, state.location)


_MODES = {
    "receiving": _receiving,
    "putaway": _putaway,
    "picking": _picking,
    "packing": _packing,
    "shipping": _shipping,
    "pos": _pos,
    "counting": _counting,
    "lookup": _lookup,
}
