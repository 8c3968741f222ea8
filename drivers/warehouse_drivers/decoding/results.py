"""What decoding a barcode read gives: the decoded barcode with its GS1 parts, or a DecodeError
naming what is wrong (the EPC and NDEF decoders raise it too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

#: The group separator (FNC1 inside GS1 data).
GS = "\x1d"


Kind = Literal["gtin", "gs1", "digital_link", "text"]


class DecodeError(ValueError):
    """Barcode data that claims a format and breaks it; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Measure:
    """A trade measure from AIs 310n-369n: what, how much, in which unit."""

    ai: str
    quantity: str  # "net weight", "length", ...
    value: Decimal
    unit: str  # "kg", "m", "lb", ...


@dataclass(frozen=True, slots=True)
class VariableMeasure:
    """A restricted circulation number (prefix 02, 20-29) read with a region's rules.

    ``item`` is the number with its variable part zeroed: the code the product is found by.
    ``price`` is in the region's currency; ``weight`` in kilograms."""

    region: str
    item: str
    price: Decimal | None = None
    weight: Decimal | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class DecodedBarcode:
    """What a read says. ``gtin`` is always 14 digits; ``kind`` is ``text`` for non-GS1 data."""

    data: str
    kind: Kind
    symbology: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    sscc: str | None = None
    elements: tuple[tuple[str, str], ...] = ()
    production_date: date | None = None
    packaging_date: date | None = None
    best_before: date | None = None
    sell_by: date | None = None
    measures: tuple[Measure, ...] = ()
    variable_count: int | None = None  # AI 30
    count: int | None = None  # AI 37: trade items contained
    gln: str | None = None  # AI 414: a physical location
    gln_extension: str | None = None  # AI 254
    addon: str | None = None  # an EAN/UPC add-on (]E3)
    variable: VariableMeasure | None = None  # price or weight embedded in an RCN
