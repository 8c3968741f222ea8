"""Framing, wedge key decoding and decoding on realistic byte streams."""

from __future__ import annotations

import pytest

from warehouse_drivers import (
    BACKENDS,
    DecodeError,
    DriverConfigError,
    KeyDecoder,
    LineFramer,
    Overlong,
    Read,
    RejectedRead,
    create_driver,
    decode_barcode,
    decode_epc,
)
from warehouse_drivers.framing import to_item


@pytest.mark.parametrize(
    ("terminator", "stream", "lines"),
    [
        ("any", b"ABC\rDEF\nGHI\r\nJKL\r\n", [b"ABC", b"DEF", b"GHI", b"JKL"]),
        ("any", b"\r\n\r\nA\r\n\n\r", [b"A"]),
        ("CR", b"A\rB\nC\r", [b"A", b"B\nC"]),
        ("LF", b"A\nB\r\n", [b"A", b"B\r"]),
        ("CRLF", b"A\r\nB\rC\r\n", [b"A", b"B\rC"]),
        ("any", b"]C1010590123000100110L1\x1d21SN9\r", [b"]C1010590123000100110L1\x1d21SN9"]),
    ],
)
def test_terminators(terminator: str, stream: bytes, lines: list[bytes]) -> None:
    framer = LineFramer(terminator, 64)  # type: ignore[arg-type]
    assert framer.feed(stream) == lines


def test_lines_split_across_reads_are_joined() -> None:
    framer = LineFramer("CRLF")
    assert framer.feed(b"59012300") == []
    assert framer.feed(b"01001\r") == []
    assert framer.feed(b"\nNEXT\r\n") == [b"5901230001001", b"NEXT"]


def test_ten_kilobytes_without_terminator_keep_memory_bounded() -> None:
    framer = LineFramer("any", max_length=512)
    for _ in range(10):
        assert framer.feed(b"X" * 1024) == []
        assert framer.buffered <= 512
    out = framer.feed(b"\rOK\r")
    assert isinstance(out[0], Overlong)
    assert out[0].size == 10 * 1024
    assert out[1:] == [b"OK"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"\x00\x01\x02garbage", "not_text"),
        (b"\xff\xfe\xfd", "not_text"),
        (Overlong(600, b"XXXX"), "too_long"),
    ],
)
def test_garbage_becomes_a_rejected_read(line: bytes | Overlong, reason: str) -> None:
    item = to_item("s1", line, 0.0)
    assert isinstance(item, RejectedRead)
    assert item.reason == reason


def test_gs1_and_utf8_text_are_reads() -> None:
    assert isinstance(to_item("s1", b"]d2010590123000100121A\x1d10B", 0.0), Read)
    assert to_item("s1", "Crème brûlée".encode(), 0.0) == Read(
        "s1", "Crème brûlée", "Crème brûlée".encode(), 0.0
    )


@pytest.mark.parametrize(
    ("read", "outcome"),
    [
        ("]E05901230001001", ("gtin", "05901230001001", None, None)),
        ("]C1010590123000100110L1\x1d21SN9", ("gs1", "05901230001001", "L1", "SN9")),
        ("]C1010590123000100121SN9\x1d10L1", ("gs1", "05901230001001", "L1", "SN9")),
        ("]Q3010590123000100110L1", ("gs1", "05901230001001", "L1", None)),
        ("LOT-LABEL-7", ("text", None, None, None)),
    ],
)
def test_decoding_table(read: str, outcome: tuple[str, str | None, str | None, str | None]) -> None:
    d = decode_barcode(read)
    assert (d.kind, d.gtin, d.lot, d.serial) == outcome


@pytest.mark.parametrize(
    ("read", "reason"),
    [
        ("]C1010590123000100110ABC17261231", "missing_separator"),  # lot ran into the expiry
        ("]C1010590123000100110ABC0105901230001001", "missing_separator"),  # ... into a GTIN
        ("]C1010590123000100210L1", "invalid_gtin"),
        ("5901230001002", "invalid_gtin"),
    ],
)
def test_decoding_refusals(read: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_barcode(read)
    assert caught.value.reason == reason


# --- keyboard wedge: synthetic evdev sequences (EV_KEY=1; value 1 down, 0 up, 2 repeat) ----

KEY = {"shift": 42, "ctrl": 29, "enter": 28, "]": 27, "caps": 58}
CODES = {"0": 11, "1": 2, "2": 3, "5": 6, "9": 10, "a": 30, "b": 48, "c": 46, "l": 38}
SHIFTED = {"|": 43}  # shift + backslash


def press(code: int) -> list[tuple[int, int, int]]:
    return [(1, code, 1), (1, code, 0)]


def typed(text: str) -> list[tuple[int, int, int]]:
    events: list[tuple[int, int, int]] = []
    for char in text:
        if char == "\x1d":  # Ctrl+]
            events += [(1, KEY["ctrl"], 1), *press(KEY["]"]), (1, KEY["ctrl"], 0)]
        elif char in SHIFTED:
            events += [(1, KEY["shift"], 1), *press(SHIFTED[char]), (1, KEY["shift"], 0)]
        elif char.isupper():
            events += [(1, KEY["shift"], 1), *press(CODES[char.lower()]), (1, KEY["shift"], 0)]
        else:
            events += press(CODES[char])
    return [*events, *press(KEY["enter"])]


def feed(decoder: KeyDecoder, events: list[tuple[int, int, int]]) -> list[str | int]:
    out = []
    for event in events:
        result = decoder.event(*event)
        if result is not None:
            out.append(result)
    return out


def test_wedge_keys_with_shift_and_gs() -> None:
    assert feed(KeyDecoder(), typed("0105\x1d10ABc")) == ["0105\x1d10ABc"]


def test_wedge_gs_substitute_and_caps_lock() -> None:
    events = [*press(KEY["caps"]), *typed("abc|12")]
    assert feed(KeyDecoder(gs_substitute="|"), events) == ["ABC\x1d12"]


def test_wedge_ignores_repeats_syn_and_unknown_keys() -> None:
    events = [
        (0, 0, 0),
        (1, CODES["a"], 1),
        (1, CODES["a"], 2),
        (1, CODES["a"], 0),
        (1, 125, 1),
        (4, 4, 458756),
        *press(KEY["enter"]),
    ]
    assert feed(KeyDecoder(), events) == ["a"]


def test_wedge_overlong_line_is_reported_and_dropped() -> None:
    decoder = KeyDecoder(max_length=8)
    assert feed(decoder, typed("1" * 20)) == [20]
    assert feed(decoder, typed("12")) == ["12"]


def test_registry_names_every_backend_and_refuses_bad_parameters() -> None:
    assert set(BACKENDS) >= {"serial", "hid", "virtual"}
    with pytest.raises(DriverConfigError, match="unknown driver"):
        create_driver("telepathy", "x")
    with pytest.raises(DriverConfigError, match="unknown parameters"):
        create_driver("serial", "x", port="/dev/null", parity="odd")
    with pytest.raises(DriverConfigError, match="hex bytes"):
        create_driver("serial", "x", port="/dev/null", feedback={"ok": "beep"})


# --- EPCs (GS1 Tag Data Standard) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_epc", "scheme", "uri", "gtin", "serial"),
    [
        (
            "3074257BF7194E4000001A85",
            "sgtin-96",
            "urn:epc:id:sgtin:0614141.812345.6789",
            "80614141123458",
            "6789",
        ),
        (
            "3674257BF6B7A659B2C2BF100000000000000000000000000000",
            "sgtin-198",
            "urn:epc:id:sgtin:0614141.712345.32a%2Fb",
            "70614141123451",
            "32a/b",
        ),
        ("3178E61C883950F59A000000", "sscc-96", "urn:epc:id:sscc:235634.35321345434", None, None),
        ("3274257BF46072000000162E", "sgln-96", "urn:epc:id:sgln:0614141.12345.5678", None, None),
        ("3374257BF40C0E400000162E", "grai-96", "urn:epc:id:grai:0614141.12345.5678", None, None),
        (
            "0x3074257bf7194e4000001a85",
            "sgtin-96",
            "urn:epc:id:sgtin:0614141.812345.6789",
            "80614141123458",
            "6789",
        ),
        ("E2801160600002054CC2096F", "raw", None, None, None),  # not a GS1 header: kept raw
    ],
)
def test_epc_table(
    hex_epc: str, scheme: str, uri: str | None, gtin: str | None, serial: str | None
) -> None:
    epc = decode_epc(hex_epc)
    assert (epc.scheme, epc.uri, epc.gtin, epc.serial) == (scheme, uri, gtin, serial)
    assert epc.is_gs1 == (uri is not None)


@pytest.mark.parametrize(
    ("hex_epc", "reason"),
    [
        ("307FFFFFFFFFFFFFFFFFFFFF", "invalid_epc"),  # SGTIN header, partition 7 does not exist
        ("30742", "bad_length"),
        ("3074257BF7194E4000001A", "bad_length"),  # 88 bits
        ("3074257BF7194E40", "invalid_epc"),  # a whole number of words, too short for SGTIN-96
        ("3F00000000000000000000FF", "invalid_epc"),  # a GS1-range header no scheme uses
        ("30zz", "not_hex"),
        ("", "not_hex"),
    ],
)
def test_epc_refusals(hex_epc: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_epc(hex_epc)
    assert caught.value.reason == reason
