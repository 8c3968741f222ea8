"""Barcode decoding: AIM identifiers, GTIN check digits, GS1 element strings, Digital Link."""

from __future__ import annotations

from datetime import date

import pytest

from warehouse_drivers.decoding import DecodeError, decode_barcode


@pytest.mark.parametrize(
    ("raw", "kind", "gtin", "lot", "serial", "expiry"),
    [
        ("5901230001001", "gtin", "05901230001001", None, None, None),
        ("]E05901230001001", "gtin", "05901230001001", None, None, None),
        ("036000291452", "gtin", "00036000291452", None, None, None),
        ("96385074", "gtin", "00000096385074", None, None, None),
        ("5901230001001\r\n", "gtin", "05901230001001", None, None, None),
        ("]C1010590123000100110L2611A", "gs1", "05901230001001", "L2611A", None, None),
        (
            "]C101059012300010011726123110L1\x1d21SN9",
            "gs1",
            "05901230001001",
            "L1",
            "SN9",
            date(2026, 12, 31),
        ),
        ("]d2010590123000100121ABC", "gs1", "05901230001001", None, "ABC", None),
        ("01059012300010011726123110L7", "gs1", "05901230001001", "L7", None, date(2026, 12, 31)),
        (
            "https://id.gs1.org/01/05901230001001/21/XYZ?17=270131",
            "digital_link",
            "05901230001001",
            None,
            "XYZ",
            date(2027, 1, 31),
        ),
        (  # the bracketed form printed under the symbol, as people type or paste it
            "(01)05901230001001(10)L42(17)261231",
            "gs1",
            "05901230001001",
            "L42",
            None,
            date(2026, 12, 31),
        ),
        ("(01)05901230001001(21)SN-1", "gs1", "05901230001001", None, "SN-1", None),
        ("(hello)", "text", None, None, None, None),
        ("SKU-COF-250", "text", None, None, None, None),
        ("]A0HELLO", "text", None, None, None, None),
    ],
)
def test_decodes(
    raw: str, kind: str, gtin: str | None, lot: str | None, serial: str | None, expiry: date | None
) -> None:
    decoded = decode_barcode(raw)
    assert (decoded.kind, decoded.gtin, decoded.lot, decoded.serial, decoded.expiry) == (
        kind,
        gtin,
        lot,
        serial,
        expiry,
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("5901230001002", "invalid_gtin"),
        ("", "empty"),
        ("]E0", "empty"),
        ("]C1019999999999999910X", "invalid_gtin"),
        ("]C1XX", "invalid_gs1"),
        ("(01)0590123000100(10)L42", "invalid_gs1"),  # a digit short
        ("https://example.com/not/a/link", "invalid_digital_link"),
    ],
)
def test_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_barcode(raw)
    assert caught.value.reason == reason
