"""Barcode data to meaning: AIM symbology identifiers, GTINs with check digits, GS1 element
strings and GS1 Digital Link URIs (parsed with biip), restricted circulation numbers with an
embedded price or weight (biip's regional rules).

The symbology identifier decides what a payload may be (GS1 General Specifications 5.1.2, ISO/IEC
15424); a read without one is judged by its content:

| identifier | symbology | may carry |
|---|---|---|
| ``]E0`` | EAN-13, UPC-A, UPC-E | a GTIN-13 (or GTIN-12) |
| ``]E3`` | EAN/UPC with add-on | a GTIN-13 followed by a 2- or 5-digit add-on |
| ``]E4`` | EAN-8 | a GTIN-8 |
| ``]E1``, ``]E2`` | an add-on read alone | nothing: refused (``addon_only``) |
| ``]I1`` | ITF-14 | a GTIN-14 |
| ``]C1``, ``]e0``-``]e2``, ``]J1`` | GS1-128, DataBar, composite, DotCode | element strings |
| ``]d2``, ``]Q3`` | GS1 DataMatrix, GS1 QR | element strings or a Digital Link URI |
| ``]Q1``, ``]d1`` | plain QR, DataMatrix | a Digital Link URI, else text |
| any other | Code 39, Code 128, PDF417, ... | text, whatever it looks like |
| none | (the scanner sends none) | a GTIN, an element string (or its printed form), a link, text |

A leading GS (FNC1 in first position, sent by some scanners instead of an identifier) is
dropped before parsing.
"""

from __future__ import annotations

import functools

from warehouse_drivers.decoding.gs1 import (
    digital_link,
    element_string,
    hri_element_string,
    looks_like_element_string,
    looks_like_hri,
)
from warehouse_drivers.decoding.results import (
    GS,
    DecodedBarcode,
    DecodeError,
    Measure,
    VariableMeasure,
)

__all__ = [
    "GS1_SYMBOLOGIES",
    "GTIN_SYMBOLOGIES",
    "LINK_SYMBOLOGIES",
    "RCN_REGIONS",
    "DecodeError",
    "DecodedBarcode",
    "Measure",
    "VariableMeasure",
    "decode_barcode",
    "split_symbology",
]

#: AIM identifiers of symbologies that carry GS1 element strings.
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]e1", "]e2", "]d2", "]Q3", "]J1"})


#: ... and of those that may carry a GS1 Digital Link URI.
LINK_SYMBOLOGIES = frozenset({"]d1", "]d2", "]Q1", "]Q3"})


#: EAN/UPC and ITF-14: identifier -> the digit counts their GTIN may have.
GTIN_SYMBOLOGIES = {"]E0": (12, 13), "]E4": (8,), "]I1": (14,)}


#: The names of the regional rule sets for price- and weight-embedded numbers.
#: biip's ``RcnRegion`` values, written out so that importing the decoders does not load biip
#: (a unit test holds the two equal).
RCN_REGIONS = ("dk", "ee", "fi", "de", "gb", "lv", "lt", "no", "se")


def split_symbology(text: str) -> tuple[str | None, str]:
    """Split an AIM symbology identifier (``]`` + letter + modifier) off the front."""
    if len(text) >= 3 and text[0] == "]" and text[1].isalpha():
        return text[:3], text[3:]
    return None, text


@functools.lru_cache(maxsize=8192)
def decode_barcode(text: str, rcn_region: str | None = None) -> DecodedBarcode:
    """Decode one read; raise :class:`DecodeError` when it breaks the format it claims.

    ``rcn_region`` names the rule set (one of RCN_REGIONS) for price- and weight-embedded
    numbers; without it such a number is only a GTIN. Memoised: a scanner reads the same few
    codes over and over, and parsing costs tens of µs.
    """
    symbology, data = split_symbology(text.rstrip("\r\n"))
    data = data.lstrip(GS)  # FNC1 in first position, as some scanners send it
    if not data:
        raise DecodeError("empty", "the read holds no data")
    if rcn_region is not None and rcn_region not in RCN_REGIONS:
        raise DecodeError("unknown_rcn_region", f"{rcn_region!r} is not one of {RCN_REGIONS}")
    if symbology is None:
        return _unmarked(data, rcn_region)
    if symbology in ("]E1", "]E2"):
        raise DecodeError("addon_only", f"a {symbology} read is an add-on without its EAN/UPC")
    if symbology == "]E3":
        return _with_addon(data, rcn_region)
    if symbology in GTIN_SYMBOLOGIES:
        digits = GTIN_SYMBOLOGIES[symbology]
        if not (data.isdigit() and len(data) in digits):
            raise DecodeError(
                "wrong_symbology",
                f"{symbology} carries a GTIN of {' or '.join(map(str, digits))} digits; "
                f"received {len(data)} characters",
            )
        return _gtin(data, symbology, rcn_region)
    if data.startswith(("https://", "http://")) and symbology in LINK_SYMBOLOGIES:
        return digital_link(data, symbology)
    if symbology in GS1_SYMBOLOGIES:
        return element_string(data, symbology)
    return DecodedBarcode(data, "text", symbology)


def _unmarked(data: str, rcn_region: str | None) -> DecodedBarcode:
    if data.startswith(("https://", "http://")):
        return digital_link(data, None)
    if looks_like_element_string(data):
        return element_string(data, None)
    if looks_like_hri(data):
        return hri_element_string(data, None)
    if data.isdigit() and len(data) in (8, 12, 13, 14):
        return _gtin(data, None, rcn_region)
    return DecodedBarcode(data, "text", None)


def _gtin(data: str, symbology: str | None, rcn_region: str | None) -> DecodedBarcode:
    from biip import ParseConfig, ParseError
    from biip.gtin import Gtin
    from biip.rcn import Rcn

    config = ParseConfig(rcn_region=rcn_region) if rcn_region else None
    try:
        gtin = Gtin.parse(data, config=config)
    except ParseError as exc:
        reason = "invalid_variable_measure" if rcn_region and "measure" in str(exc) else None
        raise DecodeError(reason or "invalid_gtin", str(exc)) from exc
    variable = None
    measured = isinstance(gtin, Rcn) and any(
        v is not None for v in (gtin.price, gtin.weight, gtin.count)
    )
    if isinstance(gtin, Rcn) and gtin.region is not None and measured:
        variable = VariableMeasure(
            region=gtin.region.value,
            item=gtin.without_variable_measure().as_gtin_14(),
            price=gtin.price,
            weight=gtin.weight,
            count=gtin.count,
        )
    return DecodedBarcode(data, "gtin", symbology, gtin=gtin.as_gtin_14(), variable=variable)


def _with_addon(data: str, rcn_region: str | None) -> DecodedBarcode:
    if not (data.isdigit() and len(data) in (15, 18)):
        raise DecodeError(
            "wrong_symbology",
            f"]E3 carries a GTIN-13 and a 2- or 5-digit add-on; received {len(data)} characters",
        )
    main = _gtin(data[:13], "]E3", rcn_region)
    return DecodedBarcode(
        data, "gtin", "]E3", gtin=main.gtin, addon=data[13:], variable=main.variable
    )
