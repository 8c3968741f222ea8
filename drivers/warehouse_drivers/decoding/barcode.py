"""Barcode data to meaning: AIM symbology identifiers, GTINs with check digits, GS1 element
strings and GS1 Digital Link URIs (parsed with biip)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

GS = "\x1d"
#: AIM identifiers of symbologies that carry GS1 element strings.
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]e1", "]d2", "]Q3", "]J1"})
Kind = Literal["gtin", "gs1", "digital_link", "text"]


class DecodeError(ValueError):
    """Barcode data that claims a format and breaks it; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


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


def split_symbology(text: str) -> tuple[str | None, str]:
    """Split an AIM symbology identifier (``]`` + letter + modifier) off the front."""
    if len(text) >= 3 and text[0] == "]" and text[1].isalpha():
        return text[:3], text[3:]
    return None, text


@functools.lru_cache(maxsize=8192)
def decode_barcode(text: str) -> DecodedBarcode:
    """Decode one read; raise :class:`DecodeError` when GS1 data is malformed.

    Memoised: a scanner reads the same few codes over and over, and parsing costs tens of µs.
    """
    symbology, data = split_symbology(text.rstrip("\r\n"))
    if not data:
        raise DecodeError("empty", "the read holds no data")
    if data.startswith(("https://", "http://")):
        return _digital_link(data, symbology)
    if symbology in GS1_SYMBOLOGIES or _looks_like_element_string(data):
        return _element_string(data, symbology)
    if data.isdigit() and len(data) in (8, 12, 13, 14):
        try:
            gtin = Gtin.parse(data)
        except ParseError as exc:
            raise DecodeError("invalid_gtin", str(exc)) from exc
        return DecodedBarcode(data, "gtin", symbology, gtin=gtin.as_gtin_14())
    return DecodedBarcode(data, "text", symbology)


def _looks_like_element_string(data: str) -> bool:
    # (01) GTIN or (02) content GTIN followed by more AIs, or an (00) SSCC
    return (data[:2] in ("01", "02") and len(data) > 16 and data[2:16].isdigit()) or (
        data[:2] == "00" and len(data) == 20 and data.isdigit()
    )


def _element_string(data: str, symbology: str | None) -> DecodedBarcode:
    try:
        message = GS1Message.parse(data)
    except ParseError as exc:
        raise DecodeError("invalid_gs1", str(exc)) from exc
    _check_separators(message.element_strings)
    return _from_elements(data, "gs1", symbology, message.element_strings)


#: AIs whose data a swallowed separator reveals unambiguously: a valid date, a GTIN with its
#: check digit. A run-on into free text (a serial after a lot) cannot be told from a real lot.
_TELLTALE_AIS = ("11", "13", "15", "16", "17", "01", "02")


def _check_separators(elements: Any) -> None:
    """Refuse a variable-length element that has swallowed further AIs (a dropped GS)."""
    for element in elements:
        if not element.ai.separator_required:  # fixed length: cannot run on
            continue
        value = element.value
        for start in range(1, len(value) - 7):
            tail = value[start:]
            if not tail.startswith(_TELLTALE_AIS):
                continue
            try:
                swallowed = GS1Message.parse(tail)
            except ParseError:
                continue
            first = swallowed.element_strings[0]
            if first.date is not None or first.gtin is not None:
                raise DecodeError(
                    "missing_separator",
                    f"AI ({element.ai.ai}) value {value!r} runs into AI ({first.ai.ai}) "
                    f"{first.value!r}: the GS separator after {value[:start]!r} is missing",
                )


def _digital_link(data: str, symbology: str | None) -> DecodedBarcode:
    try:
        link = GS1DigitalLinkURI.parse(data)
    except ParseError as exc:
        raise DecodeError("invalid_digital_link", str(exc)) from exc
    return _from_elements(data, "digital_link", symbology, link.element_strings)


def _from_elements(data: str, kind: Kind, symbology: str | None, elements: Any) -> DecodedBarcode:
    values: dict[str, str] = {}
    expiry = None
    gtin = sscc = None
    for element in elements:
        for problem in ("gtin_error", "sscc_error", "gln_error"):
            if getattr(element, problem, None):
                raise DecodeError(
                    f"invalid_{problem[:-6]}", f"AI ({element.ai.ai}): {getattr(element, problem)}"
                )
        values.setdefault(element.ai.ai, element.value)
        if element.gtin is not None and gtin is None:
            gtin = element.gtin.as_gtin_14()
        if element.sscc is not None:
            sscc = element.value
        if element.ai.ai == "17" and element.date is not None:
            expiry = element.date
    return DecodedBarcode(
        data,
        kind,
        symbology,
        gtin=gtin,
        lot=values.get("10"),
        serial=values.get("21"),
        expiry=expiry,
        sscc=sscc,
        elements=tuple(values.items()),
    )
