"""Property-based fuzzing of every decoder that reads bytes from outside: the MQTT contract,
barcodes (with and without symbology identifiers, every RCN region), EPCs as hex and as URIs,
NDEF messages and CAN frames. Whatever arrives, the decoder returns a result or raises its own
documented error, never anything else, and within a bounded time per input (Hypothesis'
deadline)."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse import contracts
from warehouse_drivers.can.reassembly import Reassembler
from warehouse_drivers.decoding import (
    DecodeError,
    decode_barcode,
    decode_epc,
    decode_epc_uri,
    decode_ndef,
)
from warehouse_drivers.decoding.barcode import RCN_REGIONS

FUZZ = settings(
    max_examples=400,
    deadline=timedelta(milliseconds=250),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

SYMBOLOGIES = ["", "]C1", "]e0", "]d2", "]Q3", "]Q1", "]d1", "]E0", "]E1", "]E3", "]E4", "]I1",
               "]A0", "]J1", "\x1d"]  # fmt: skip
GS1ISH = st.text(alphabet="0123456789\x1d()ABCDEFxyz/-.:%", max_size=80)


@FUZZ
@given(
    st.sampled_from(SYMBOLOGIES),
    st.one_of(GS1ISH, st.text(max_size=120)),
    st.sampled_from([None, *RCN_REGIONS]),
)
def test_barcodes(symbology: str, data: str, region: str | None) -> None:
    try:
        decode_barcode(symbology + data, region)
    except DecodeError as exc:
        assert exc.reason  # noqa: PT017 - the documented error, with its reason


@FUZZ
@given(
    st.one_of(
        st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=64),
        st.binary(max_size=32).map(bytes.hex),
        st.text(max_size=64),
    )
)
def test_epc_hex(value: str) -> None:
    with contextlib.suppress(DecodeError):
        decode_epc(value)


@FUZZ
@given(
    st.one_of(
        st.builds(
            lambda scheme, body: f"urn:epc:id:{scheme}:{body}",
            st.sampled_from(["sgtin", "sscc", "sgln", "grai", "giai", "gid", "usdod", "x"]),
            st.text(alphabet="0123456789.*%-", max_size=40),
        ),
        st.text(max_size=80),
    )
)
def test_epc_uris(uri: str) -> None:
    with contextlib.suppress(DecodeError):
        decode_epc_uri(uri)


def _record(header: int, rtype: bytes, payload: bytes, rid: bytes = b"") -> bytes:
    short = len(payload) < 256
    flags = header | (0x10 if short else 0) | (0x08 if rid else 0)
    out = bytes([flags, len(rtype)])
    out += bytes([len(payload)]) if short else len(payload).to_bytes(4, "big")
    if rid:
        out += bytes([len(rid)])
    return out + rtype + rid + payload


NDEF_LIKE = st.builds(
    lambda header, rtype, payload, cut: _record(header, rtype, payload)[: cut or None],
    st.integers(0, 0xFF).map(lambda h: h & 0xE7),
    st.sampled_from([b"U", b"T", b"Sp", b"text/plain", b""]),
    st.binary(max_size=300),
    st.integers(0, 40),
)


@FUZZ
@given(st.one_of(NDEF_LIKE, st.binary(max_size=400), st.lists(NDEF_LIKE, max_size=4).map(b"".join)))
def test_ndef(octets: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_ndef(octets)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0x7FF), st.binary(max_size=8)), max_size=30))
def test_can_frames(frames: list[tuple[int, bytes]]) -> None:
    reassembler = Reassembler("can0")
    for i, (arbitration_id, data) in enumerate(frames):
        reassembler.frame(arbitration_id, data, float(i) * 0.01)
    reassembler.expire(1e9)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _envelope(data: object, overrides: dict[str, object]) -> bytes:
    doc: dict[str, object] = {
        "v": 1,
        "event_id": "0b7f5d2e-8f6c-4c3a-9a4e-1c2d3e4f5a6b",
        "agent_id": "dock-1",
        "site": "WH1",
        "seq": 1,
        "occurred_at": "2026-12-01T10:00:00Z",
        "type": "movement",
        "data": data,
    }
    doc.update(overrides)
    return json.dumps(doc).encode()


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=600),
        st.builds(
            _envelope,
            JSONISH,
            st.dictionaries(
                st.sampled_from(["v", "seq", "boot", "occurred_at", "type", "site", "event_id"]),
                JSONISH,
                max_size=3,
            ),
        ),
        st.integers(1, 400).map(lambda n: b"[" * n + b"]" * n),
    )
)
def test_the_contract_decoder(payload: bytes) -> None:
    try:
        contracts.decode_event(payload)
    except contracts.ContractError as exc:
        assert exc.reason  # noqa: PT017


def test_an_absolute_uri_type_that_is_no_uri_is_malformed_ndef() -> None:
    """The fuzzer's first find: ndeflib raised a bare ValueError for it."""
    try:
        decode_ndef(bytes([0xD3, 1, 0]) + b"U")  # MB ME SR, TNF 3 (absolute URI), type "U"
    except DecodeError as exc:
        assert exc.reason == "malformed_ndef"  # noqa: PT017
    else:
        raise AssertionError("decoded")
