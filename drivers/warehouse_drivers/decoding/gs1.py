"""GS1 element strings and Digital Link URIs to meaning (parsed with biip): GTIN, lot, serial,
dates, SSCC, trade measures; with a fast path for the common item label and a check for a
dropped GS separator.

biip is imported by the first decode, not with the module: its prefix tables hold about 16 MB,
which an agent that only drains its outbox, or reads RFID tags, never needs."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from warehouse_drivers.decoding.results import GS, DecodedBarcode, DecodeError, Kind, Measure

# AI prefix (3 digits, the 4th is the decimal point) -> (what is measured, unit)
_MEASURES = {
    "310": ("net weight", "kg"),
    "311": ("length", "m"),
    "312": ("width", "m"),
    "313": ("depth", "m"),
    "314": ("area", "m2"),
    "315": ("net volume", "l"),
    "316": ("net volume", "m3"),
    "320": ("net weight", "lb"),
    "321": ("length", "in"),
    "322": ("length", "ft"),
    "323": ("length", "yd"),
    "324": ("width", "in"),
    "325": ("width", "ft"),
    "326": ("width", "yd"),
    "327": ("depth", "in"),
    "328": ("depth", "ft"),
    "329": ("depth", "yd"),
    "330": ("gross weight", "kg"),
    "331": ("logistic length", "m"),
    "332": ("logistic width", "m"),
    "333": ("logistic depth", "m"),
    "334": ("logistic area", "m2"),
    "335": ("logistic volume", "l"),
    "336": ("logistic volume", "m3"),
    "337": ("area density", "kg/m2"),
    "340": ("gross weight", "lb"),
    "341": ("logistic length", "in"),
    "342": ("logistic length", "ft"),
    "343": ("logistic length", "yd"),
    "344": ("logistic width", "in"),
    "345": ("logistic width", "ft"),
    "346": ("logistic width", "yd"),
    "347": ("logistic depth", "in"),
    "348": ("logistic depth", "ft"),
    "349": ("logistic depth", "yd"),
    "350": ("area", "in2"),
    "351": ("area", "ft2"),
    "352": ("area", "yd2"),
    "353": ("logistic area", "in2"),
    "354": ("logistic area", "ft2"),
    "355": ("logistic area", "yd2"),
    "356": ("net weight", "troy oz"),
    "357": ("net weight or volume", "oz"),
    "360": ("net volume", "qt"),
    "361": ("net volume", "gal"),
    "362": ("logistic volume", "qt"),
    "363": ("logistic volume", "gal"),
    "364": ("net volume", "in3"),
    "365": ("net volume", "ft3"),
    "366": ("net volume", "yd3"),
    "367": ("logistic volume", "in3"),
    "368": ("logistic volume", "ft3"),
    "369": ("logistic volume", "yd3"),
}


_DATES = {
    "11": "production_date",
    "13": "packaging_date",
    "15": "best_before",
    "16": "sell_by",
    "17": "expiry",
}


def looks_like_element_string(data: str) -> bool:
    # (01) GTIN or (02) content GTIN followed by more AIs, or an (00) SSCC
    return (data[:2] in ("01", "02") and len(data) > 16 and data[2:16].isdigit()) or (
        data[:2] == "00" and len(data) == 20 and data.isdigit()
    )


def element_string(data: str, symbology: str | None) -> DecodedBarcode:
    fast = _item_label(data, symbology)
    if fast is not None:
        return fast
    return _parsed_element_string(data, symbology)


def looks_like_hri(data: str) -> bool:
    """The human-readable form of an element string, as printed under a GS1-128 or DataMatrix
    and typed or pasted by people: ``(01)05901230001049(10)L42``."""
    return data[:1] == "(" and data[3:4] == ")" and data[1:3].isdigit()


def hri_element_string(data: str, symbology: str | None) -> DecodedBarcode:
    """An element string in its human-readable form, read by biip as such."""
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    try:
        message = GS1Message.parse_hri(data)
    except (ParseError, ValueError) as exc:  # biip lets int() fail on some broken forms
        raise DecodeError("invalid_gs1", str(exc)) from exc
    return _from_elements(data, "gs1", symbology, message.element_strings)


def _parsed_element_string(data: str, symbology: str | None) -> DecodedBarcode:
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    try:
        message = GS1Message.parse(data)
    except ParseError as exc:
        raise DecodeError("invalid_gs1", str(exc)) from exc
    _check_separators(message.element_strings)
    return _from_elements(data, "gs1", symbology, message.element_strings)


# --- the item-label fast path -------------------------------------------------------------
#
# Every serialized item's label is a new code, so no cache helps, and biip takes about 45 µs to
# parse one: at an RFID dock door or a serial-numbered receipt that was most of the ingest's
# work. The labels almost always have one layout: (01) GTIN, then (10) lot, (21) serial and the
# dates (11, 13, 15, 16, 17). That layout is read here with biip's own patterns, check digit and
# date rules (each memoised: GTINs and dates repeat, serials do not). Anything else, or anything
# in which a dropped separator could be hiding, goes to biip as before; a property test holds the
# two paths to the same answers (tests/unit/test_decoding_standards.py).

_VARIABLE_AIS = ("10", "21")


@functools.cache
def _variable_pattern(ai: str) -> re.Pattern[str]:
    """biip's pattern for a variable-length AI's value."""
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    return re.compile(GS1ApplicationIdentifier.extract(ai).pattern[len(ai) + 1 : -1])


_FIXED_DATES = ("11", "13", "15", "16", "17")


def _item_label(data: str, symbology: str | None) -> DecodedBarcode | None:
    """The fast reading of ``(01) GTIN`` + lot, serial and dates, or None to let biip read it."""
    if len(data) < 16 or data[:2] != "01" or not data[2:16].isdigit():
        return None
    values: dict[str, str] = {"01": data[2:16]}
    pos, end = 16, len(data)
    while pos < end:
        ai = data[pos : pos + 2]
        if ai in values:
            return None
        if ai in _FIXED_DATES:
            value = data[pos + 2 : pos + 8]
            pos += 8
            if pos < end and data[pos] == GS:
                pos += 1
        elif ai in _VARIABLE_AIS:
            stop = data.find(GS, pos + 2)
            value = data[pos + 2 : stop if stop != -1 else end]
            pos = stop + 1 if stop != -1 else end
            if not _variable_pattern(ai).fullmatch(value) or _may_hide_an_ai(value):
                return None
        else:
            return None
        values[ai] = value
    gtin = _gtin14(values["01"])
    if gtin is None:
        return None  # biip says what is wrong with it
    dates: dict[str, date | None] = {}
    for ai in _FIXED_DATES:
        if ai in values:
            when = _gs1_date(ai, values[ai])
            if when is None:
                return None
            dates[ai] = when
    return DecodedBarcode(
        data,
        "gs1",
        symbology,
        gtin=gtin,
        lot=values.get("10"),
        serial=values.get("21"),
        elements=tuple(values.items()),
        production_date=dates.get("11"),
        packaging_date=dates.get("13"),
        best_before=dates.get("15"),
        sell_by=dates.get("16"),
        expiry=dates.get("17"),
    )


def _may_hide_an_ai(value: str) -> bool:
    """Whether a swallowed AI could be hiding in a variable-length value (the cases
    ``_check_separators`` looks at): then biip and that check decide."""
    for start in range(1, len(value) - 7):
        tail = value[start:]
        if tail[:2] in ("01", "02") and len(tail) >= 16 and tail[2:16].isdigit():
            return True
        if tail[:2] in _FIXED_DATES and tail[2:8].isdigit():
            return True
    return False


@functools.lru_cache(maxsize=8192)
def _gtin14(digits: str) -> str | None:
    from biip import ParseError
    from biip.gtin import Gtin

    try:
        return Gtin.parse(digits).as_gtin_14()
    except ParseError:
        return None


@functools.lru_cache(maxsize=4096)
def _gs1_date(ai: str, value: str) -> date | None:
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    try:
        (element,) = GS1Message.parse(ai + value).element_strings
    except (ParseError, ValueError):
        return None
    return element.date


#: AIs whose data a swallowed separator reveals unambiguously: a valid date, a GTIN with its
#: check digit. A run-on into free text (a serial after a lot) cannot be told from a real lot.
_TELLTALE_AIS = ("11", "13", "15", "16", "17", "01", "02")


def _check_separators(elements: Any) -> None:
    """Refuse a variable-length element that has swallowed further AIs (a dropped GS)."""
    from biip import ParseError
    from biip.gs1_messages import GS1Message

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


def digital_link(data: str, symbology: str | None) -> DecodedBarcode:
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        link = GS1DigitalLinkURI.parse(data)
    except ParseError as exc:
        raise DecodeError("invalid_digital_link", str(exc)) from exc
    return _from_elements(data, "digital_link", symbology, link.element_strings)


def _from_elements(data: str, kind: Kind, symbology: str | None, elements: Any) -> DecodedBarcode:
    values: dict[str, str] = {}
    fields: dict[str, Any] = {}
    measures: list[Measure] = []
    for element in elements:
        ai = element.ai.ai
        for problem in ("gtin_error", "sscc_error", "gln_error"):
            if getattr(element, problem, None):
                raise DecodeError(
                    f"invalid_{problem[:-6]}", f"AI ({ai}): {getattr(element, problem)}"
                )
        values.setdefault(ai, element.value)
        if element.gtin is not None and "gtin" not in fields:
            fields["gtin"] = element.gtin.as_gtin_14()
        if element.sscc is not None:
            fields["sscc"] = element.value
        if ai in _DATES and element.date is not None:
            fields[_DATES[ai]] = element.date
        if ai[:3] in _MEASURES and element.decimal is not None:
            quantity, unit = _MEASURES[ai[:3]]
            measures.append(Measure(ai, quantity, element.decimal, unit))
        if ai == "414":
            fields["gln"] = element.value
    for ai, field in (("30", "variable_count"), ("37", "count")):
        if ai in values:
            if not values[ai].isdigit():  # the pattern allows none (\d{0,8})
                raise DecodeError("invalid_gs1", f"AI ({ai}) holds no count")
            fields[field] = int(values[ai])
    return DecodedBarcode(
        data,
        kind,
        symbology,
        lot=values.get("10"),
        serial=values.get("21"),
        gln_extension=values.get("254"),
        elements=tuple(values.items()),
        measures=tuple(measures),
        **fields,
    )
