"""Decoders as strict as the standards: NDEF (NFC Forum), symbology identifiers (ISO/IEC 15424,
GS1 General Specifications), EPC headers (TDS 1.x), and every decoded field, checked against
ndeflib, biip and epcpy where they decode the same input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import ndef
import pytest
from biip import ParseConfig
from biip.checksums import gs1_standard_check_digit
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from epcpy import hex_to_tag_encodable
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_drivers.decoding import (
    RCN_REGIONS,
    DecodeError,
    decode_barcode,
    decode_epc,
    decode_epc_uri,
    decode_ndef,
)
from warehouse_drivers.decoding import gs1 as barcode_module
from warehouse_drivers.decoding.epc import NOT_GS1_KEYS, SCHEMES

# --- NDEF --------------------------------------------------------------------------------

MB, ME, CF, SR = 0x80, 0x40, 0x20, 0x10
WELL_KNOWN = 0x01


def record(flags: int, type_: bytes, payload: bytes, tnf: int = WELL_KNOWN) -> bytes:
    """One short record, built by hand so that every flag can be wrong."""
    return bytes([flags | SR | tnf, len(type_), len(payload)]) + type_ + payload


URI_GS1 = b"\x04id.gs1.org/01/05901230001254/21/HDP-1"  # 0x04: "https://"


@pytest.mark.parametrize(
    ("octets", "says"),
    [
        (record(ME, b"U", URI_GS1), "MB flag not set in first record"),
        (record(MB, b"U", URI_GS1), "ME flag not set in last record"),
        (record(MB, b"U", URI_GS1) + record(MB | ME, b"U", URI_GS1), "MB flag set in middle"),
        (record(MB | ME | CF, b"U", URI_GS1), "CF flag set in last record"),
        (record(MB | ME, b"U", b"\x24example.com"), "decoding of URI identifier 36"),
        (record(MB | ME, b"U", b"\xffexample.com"), "decoding of URI identifier 255"),
        (
            record(MB | CF, b"U", b"\x04id.gs1") + record(ME, b"", b".org/x", tnf=0x06),
            "chunked records",
        ),
        (bytes([MB | ME | SR | 0x07, 0, 0]), "TNF field value"),
        (bytes([MB | ME | SR | WELL_KNOWN, 1, 40]) + b"U\x04short", "buffer underflow"),
        (b"", "holds no record"),
    ],
    ids=[
        "no MB",
        "no ME",
        "MB in the middle",
        "CF on the last",
        "reserved URI code 0x24",
        "reserved URI code 0xFF",
        "chunked",
        "TNF 7",
        "truncated",
        "empty",
    ],
)
def test_malformed_ndef_is_refused_with_its_reason(octets: bytes, says: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_ndef(octets)
    assert caught.value.reason == "malformed_ndef"
    assert says in caught.value.detail
    if says.startswith(("MB", "ME", "CF", "decoding of URI")):  # nfcpy's relaxed mode took these
        assert list(ndef.message_decoder(octets, errors="relax"))


def test_every_record_is_described_as_ndeflib_reads_it() -> None:
    records = [
        ndef.UriRecord("https://id.gs1.org/01/05901230001254/21/HDP-1"),
        ndef.TextRecord("LOC:WH1-A-01", "de"),
        ndef.Record("application/json", "cfg", b'{"a": 1}'),
        ndef.SmartposterRecord("https://example.com/p", title="Pallet label"),
        ndef.UriRecord("urn:epc:id:sgtin:0614141.812345.6789"),
    ]
    octets = b"".join(ndef.message_encoder(records))
    uri, text, mime, poster, epc = decode_ndef(octets)
    assert (uri.kind, uri.uri, uri.size) == ("uri", records[0].uri, len(records[0].data))
    assert (text.kind, text.text, text.language) == ("text", "LOC:WH1-A-01", "de")
    assert (mime.kind, mime.mime_type, mime.size, mime.name) == (
        "mime",
        "application/json",
        8,
        "cfg",
    )
    assert (poster.kind, poster.uri, poster.text) == (
        "smartposter",
        "https://example.com/p",
        "Pallet label",
    )
    assert epc.epc is not None
    assert (epc.epc.gtin, epc.epc.serial) == ("80614141123458", "6789")


# --- symbology identifiers ----------------------------------------------------------------

GTIN13 = "5901230001001"
GTIN14 = "05901230001001"
ELEMENTS = "0105901230001001" + "10L1"


@pytest.mark.parametrize(
    ("read", "kind", "gtin"),
    [
        (f"]E0{GTIN13}", "gtin", GTIN14),
        ("]E0036000291452", "gtin", "00036000291452"),  # UPC-A as GTIN-12
        ("]E496385074", "gtin", "00000096385074"),
        (f"]E3{GTIN13}12", "gtin", GTIN14),
        (f"]E3{GTIN13}54321", "gtin", GTIN14),
        (f"]I1{GTIN14}", "gtin", GTIN14),
        (f"]C1{ELEMENTS}", "gs1", GTIN14),
        (f"]e0{ELEMENTS}", "gs1", GTIN14),
        (f"]e1{ELEMENTS}", "gs1", GTIN14),
        (f"]d2{ELEMENTS}", "gs1", GTIN14),
        (f"]Q3{ELEMENTS}", "gs1", GTIN14),
        (f"]J1{ELEMENTS}", "gs1", GTIN14),
        (f"]Q1https://id.gs1.org/01/{GTIN14}", "digital_link", GTIN14),
        (f"]d1https://id.gs1.org/01/{GTIN14}", "digital_link", GTIN14),
        (f"]Q3https://id.gs1.org/01/{GTIN14}", "digital_link", GTIN14),
        (ELEMENTS, "gs1", GTIN14),  # no identifier: judged by content
        (GTIN13, "gtin", GTIN14),
        (f"]C0{ELEMENTS}", "text", None),  # plain Code 128 carries no element strings
        (f"]C0{GTIN13}", "text", None),
        (f"]A0{GTIN13}", "text", None),  # Code 39
        (f"]L0{ELEMENTS}", "text", None),  # PDF417
        (f"]d1{ELEMENTS}", "text", None),  # plain DataMatrix
        (f"]Q1{ELEMENTS}", "text", None),  # plain QR
        (f"]C0https://id.gs1.org/01/{GTIN14}", "text", None),
        (f"\x1d{ELEMENTS}", "gs1", GTIN14),  # FNC1 sent as a leading GS
        (f"]C1\x1d{ELEMENTS}", "gs1", GTIN14),
    ],
)
def test_the_symbology_decides_what_a_read_may_be(read: str, kind: str, gtin: str | None) -> None:
    decoded = decode_barcode(read)
    assert (decoded.kind, decoded.gtin) == (kind, gtin)


@pytest.mark.parametrize(
    ("read", "reason"),
    [
        ("]E000590123000100110", "wrong_symbology"),  # twenty digits are not an EAN
        (f"]E0{ELEMENTS}", "wrong_symbology"),
        ("]E05901230", "wrong_symbology"),
        (f"]E4{GTIN13}", "wrong_symbology"),
        (f"]E3{GTIN13}", "wrong_symbology"),  # no add-on
        (f"]I1{GTIN13}", "wrong_symbology"),
        ("]E112", "addon_only"),
        ("]E254321", "addon_only"),
        ("]E05901230001002", "invalid_gtin"),
        (f"]C1{GTIN13}", "invalid_gs1"),  # GS1-128 without AIs
        ("]Q3https://example.com/x", "invalid_digital_link"),
        ("\x1d", "empty"),
    ],
)
def test_what_a_symbology_cannot_carry_is_refused(read: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_barcode(read)
    assert caught.value.reason == reason


def test_an_addon_is_kept() -> None:
    assert decode_barcode(f"]E3{GTIN13}54321").addon == "54321"


# --- wider barcode values -------------------------------------------------------------------


def test_dates_measures_counts_and_locations_as_biip_reads_them() -> None:
    data = (
        "0105901230001001"
        "11261130"
        "13261101"
        "15270100"  # day 00: the last day of the month
        "16261215"
        "17271231"
        "3103000742"
        "3122001250"
        "3300012345"
        "300004\x1d"
        "3712\x1d"
        "4145901234123457"
        "254DOCK-2"
    )
    decoded = decode_barcode(f"]C1{data}")
    assert decoded.production_date == date(2026, 11, 30)
    assert decoded.packaging_date == date(2026, 11, 1)
    assert decoded.best_before == date(2027, 1, 31)
    assert decoded.sell_by == date(2026, 12, 15)
    assert decoded.expiry == date(2027, 12, 31)
    measures = {(m.ai, m.quantity, m.unit): m.value for m in decoded.measures}
    assert measures == {
        ("3103", "net weight", "kg"): Decimal("0.742"),
        ("3122", "width", "m"): Decimal("12.50"),
        ("3300", "gross weight", "kg"): Decimal("12345"),
    }
    biip_decimals = {e.ai.ai: e.decimal for e in GS1Message.parse(data).element_strings}
    assert all(m.value == biip_decimals[m.ai] for m in decoded.measures)
    assert (decoded.variable_count, decoded.count) == (4, 12)
    assert (decoded.gln, decoded.gln_extension) == ("5901234123457", "DOCK-2")


def test_an_sscc() -> None:
    decoded = decode_barcode("]C100106141412345678908")
    assert (decoded.kind, decoded.sscc, decoded.gtin) == ("gs1", "106141412345678908", None)


@pytest.mark.parametrize(
    ("code", "region", "price", "weight"),
    [
        ("2001234012348", "se", Decimal("12.34"), None),
        ("2388060112344", "de", Decimal("112.34"), None),
        ("2312345007421", "no", None, Decimal("0.742")),
        ("2812345012345", "dk", None, Decimal("501.234")),
    ],
)
def test_price_and_weight_embedded_numbers_by_region(
    code: str, region: str, price: Decimal | None, weight: Decimal | None
) -> None:
    decoded = decode_barcode(code, rcn_region=region)
    assert decoded.variable is not None
    assert (decoded.variable.region, decoded.variable.price, decoded.variable.weight) == (
        region,
        price,
        weight,
    )
    rcn = Gtin.parse(code, config=ParseConfig(rcn_region=region))
    assert decoded.variable.item == rcn.without_variable_measure().as_gtin_14()  # type: ignore[attr-defined]
    assert decode_barcode(code).variable is None  # without a region: only a GTIN


def test_the_rcn_regions_are_biips() -> None:
    from biip.rcn import RcnRegion

    assert tuple(region.value for region in RcnRegion) == RCN_REGIONS
    with pytest.raises(DecodeError) as caught:
        decode_barcode("2001234012348", rcn_region="atlantis")
    assert caught.value.reason == "unknown_rcn_region"


# --- EPC -----------------------------------------------------------------------------------


def test_every_tds_header_has_a_name_and_gs1_means_a_gs1_key() -> None:
    assert sorted(SCHEMES) == list(range(0x2C, 0x40))
    assert set(NOT_GS1_KEYS) == {"usdod-96", "gid-96", "adi-var"}
    gid = decode_epc("350000000A0000010000000C")
    assert (gid.scheme, gid.is_gs1, gid.uri) == (
        "gid-96",
        False,
        "urn:epc:id:gid:0.10485760.4294967308",
    )
    assert decode_epc("3074257BF7194E4000001A85").is_gs1
    assert not decode_epc("E2801160600002054CC2096F").is_gs1


def test_non_gs1_schemes_say_their_own_fields_and_never_a_company_prefix() -> None:
    dod = decode_epc("2F02032533139342DFDC1C35")
    assert (dod.scheme, dod.is_gs1, dod.company_prefix, dod.gs1_key) == (
        "usdod-96",
        False,
        None,
        None,
    )
    assert (dod.cage, dod.serial) == ("2S194", "12345678901")
    adi = decode_epc("3B020C93C79D31CB3D35071023C71C33E400")
    assert (adi.scheme, adi.company_prefix) == ("adi-var", None)
    assert (adi.cage, adi.part_number, adi.serial) == ("2S194", "12345A1", "#11039")
    gid = decode_epc("350000000A0000010000000C")
    assert (gid.company_prefix, gid.manager_number, gid.object_class, gid.serial) == (
        None,
        "0",
        "10485760",
        "4294967308",
    )
    # their identity URIs decode to the same fields
    assert decode_epc_uri("urn:epc:id:usdod:2S194.12345678901").cage == "2S194"
    assert decode_epc_uri("urn:epc:id:adi:2S194.12345A1.%2311039").part_number == "12345A1"


def test_epc_urns_decode_wherever_hex_does() -> None:
    """A tag URI names the binary exactly (scheme and filter): it decodes to the hex a reader
    reports. A pure identity URI names the thing, not its encoding: no hex, the same identity."""
    hex_epc = "3074257BF7194E4000001A85"
    from_tag = decode_epc("urn:epc:tag:sgtin-96:3.0614141.812345.6789")
    assert from_tag == decode_epc(hex_epc)
    pure = decode_epc("urn:epc:id:sgtin:0614141.812345.6789")
    assert (pure.hex, pure.uri, pure.gtin, pure.serial) == (
        "",
        "urn:epc:id:sgtin:0614141.812345.6789",
        "80614141123458",
        "6789",
    )
    assert decode_epc("URN:EPC:ID:SGTIN:0614141.812345.6789").uri == pure.uri
    with pytest.raises(DecodeError) as caught:
        decode_epc("urn:epc:tag:sgtin-96:9.0614141.812345.6789")
    assert caught.value.reason == "invalid_epc_uri"


@pytest.mark.parametrize(
    ("hex_epc", "expected"),
    [
        (
            "3074257BF7194E4000001A85",
            {
                "scheme": "sgtin-96",
                "filter_value": 3,
                "company_prefix": "0614141",
                "tag_uri": "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
                "gtin": "80614141123458",
                "serial": "6789",
                "element_string": "(01)80614141123458(21)6789",
                "digital_link": "https://id.gs1.org/01/80614141123458/21/6789",
            },
        ),
        (
            "3178E61C883950F59A000000",
            {"scheme": "sscc-96", "sscc": "323563453213454346", "company_prefix": "235634"},
        ),
        (
            "3274257BF46072000000162E",
            {
                "scheme": "sgln-96",
                "gln": "0614141123452",
                "gln_extension": "5678",
                "digital_link": "https://id.gs1.org/414/0614141123452/254/5678",
            },
        ),
        ("3374257BF40C0E400000162E", {"scheme": "grai-96", "grai": "06141411234525678"}),
        ("3414257BF400000000000001", {"scheme": "giai-96", "giai": "06141411"}),
    ],
)
def test_epc_fields_as_epcpy_reads_them(hex_epc: str, expected: dict[str, object]) -> None:
    decoded = decode_epc(hex_epc)
    assert {k: getattr(decoded, k) for k in expected} == expected
    tag = hex_to_tag_encodable(hex_epc)
    assert decoded.uri == tag.epc_uri
    assert decoded.gs1_key == str(tag.gs1_key())
    assert decoded.tag_uri is not None
    scheme, filter_value = _tag_uri_args(tag, decoded)
    assert decoded.tag_uri == tag.tag_uri(binary_coding_scheme=scheme, filter_value=filter_value)


def _tag_uri_args(tag: object, decoded: object) -> tuple[object, object]:
    """epcpy's own coding scheme and filter value objects for what we decoded."""
    scheme_enum = tag.BinaryCodingScheme  # type: ignore[attr-defined]
    scheme = next(s for s in scheme_enum if s.value == decoded.scheme)  # type: ignore[attr-defined]
    module = __import__(type(tag).__module__, fromlist=["x"])
    filters = next(v for k, v in vars(module).items() if k.endswith("FilterValue"))
    return scheme, filters(str(decoded.filter_value))  # type: ignore[attr-defined]


def test_epc_uris_resolve_like_a_tags_epc() -> None:
    from_uri = decode_epc_uri("urn:epc:id:sgtin:0614141.812345.6789")
    from_tag = decode_epc("3074257BF7194E4000001A85")
    assert (from_uri.gtin, from_uri.serial, from_uri.gs1_key) == (
        from_tag.gtin,
        from_tag.serial,
        from_tag.gs1_key,
    )
    assert decode_epc_uri("urn:epc:id:sscc:0614141.1234567890").sscc == "106141412345678908"
    with pytest.raises(DecodeError):
        decode_epc_uri("urn:epc:id:banana:1.2")


# --- the item-label fast path agrees with biip ----------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@st.composite
def item_labels(draw: st.DrawFn) -> str:
    """Element strings of the fast path's layout, and near misses of it."""
    body = draw(st.text("0123456789", min_size=13, max_size=13))
    valid = draw(st.integers(0, 9)) > 0  # mostly a right check digit
    digit = gs1_standard_check_digit(body) if valid else draw(st.integers(0, 9))
    parts = ["01" + body + str(digit)]
    ais = st.sampled_from(["10", "21", "10", "21", "11", "13", "15", "16", "17", "30"])
    for ai in draw(st.lists(ais, max_size=4, unique=draw(st.integers(0, 5)) > 0)):
        if ai in ("10", "21", "30"):
            alphabet = st.sampled_from([CSET82, "0123456789", CSET82 + "\x1d"])
            value = draw(st.text(draw(alphabet), min_size=0, max_size=24))
            separator = "\x1d" if draw(st.integers(0, 3)) else ""
            parts.append(ai + value + separator)
        elif draw(st.integers(0, 4)):  # mostly real dates, day 00 (end of month) among them
            day = draw(st.dates()).strftime("%y%m") + draw(st.sampled_from(["00", "01", "28"]))
            parts.append(ai + day)
        else:
            parts.append(ai + draw(st.text("0123456789", min_size=6, max_size=6)))
    return "".join(parts)


def _either(read: object) -> object:
    try:
        return read()  # type: ignore[operator]
    except DecodeError as exc:
        return ("refused", exc.reason)


@settings(max_examples=3000, deadline=None)
@given(item_labels())
def test_the_item_label_fast_path_reads_what_biip_reads(data: str) -> None:
    fast = barcode_module._item_label(data, "]C1")
    if fast is None:
        return  # biip reads it, as before
    slow = _either(lambda: barcode_module._parsed_element_string(data, "]C1"))
    assert fast == slow
