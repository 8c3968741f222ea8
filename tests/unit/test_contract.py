"""Contract v1: codec, topics, JSON Schema freshness, the documented examples."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from warehouse import contracts
from warehouse.contracts import schema

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "mqtt-contract.md"


def movement(**data: object) -> dict[str, object]:
    return {
        "v": 1,
        "event_id": str(uuid.uuid4()),
        "agent_id": "dock-1",
        "site": "WH1",
        "seq": 1,
        "occurred_at": "2026-11-25T10:00:00+01:00",
        "type": "movement",
        "data": {"kind": "receive", "code": "5901230001001", "qty": 2, **data},
    }


def test_round_trip_keeps_every_field() -> None:
    event = contracts.MovementEvent(
        event_id=uuid.uuid4(),
        agent_id="dock-1",
        site="WH1",
        seq=2**63 - 1,
        boot=4,
        occurred_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        device="s1",
        station="receiving",
        data=contracts.MovementData(
            kind="receive", code="x", qty=Decimal("2.125"), lot="L1", to_location="WH1-DOCK-1"
        ),
    )
    assert contracts.decode_event(contracts.encode(event)) == event


def test_times_are_utc_and_qty_accepts_numbers_and_strings() -> None:
    decoded = contracts.decode_event(json.dumps(movement(qty="0.742")).encode())
    assert decoded.occurred_at == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert isinstance(decoded, contracts.MovementEvent)
    assert decoded.data.qty == Decimal("0.742")


def test_unknown_fields_are_ignored() -> None:
    doc = movement(colour="red")
    doc["firmware"] = "9.9"
    assert contracts.decode_event(json.dumps(doc).encode()).type == "movement"


@pytest.mark.parametrize(
    ("payload", "reason", "mentions"),
    [
        (b"\xff\xfe\x00", "not_utf8", "UTF-8"),
        (b"{not json", "not_json", "not JSON"),
        (b"[1, 2]", "not_an_object", "list"),
        (json.dumps({**movement(), "v": 2}).encode(), "unsupported_version", "'v'"),
        (json.dumps({**movement(), "type": "teleport"}).encode(), "unknown_type", "teleport"),
        (json.dumps(movement(qty=-1)).encode(), "invalid_message", "data.qty"),
        (json.dumps(movement(qty="lots")).encode(), "invalid_message", "data.qty"),
        (json.dumps(movement(kind="steal")).encode(), "invalid_message", "data.kind"),
        (json.dumps({**movement(), "seq": 0}).encode(), "invalid_message", "seq"),
        (
            json.dumps({**movement(), "occurred_at": "2026-11-25T10:00:00"}).encode(),
            "invalid_message",
            "occurred_at",
        ),
        (json.dumps({**movement(), "agent_id": "a/b"}).encode(), "invalid_message", "agent_id"),
        (
            json.dumps({k: v for k, v in movement().items() if k != "event_id"}).encode(),
            "invalid_message",
            "event_id': required",
        ),
        (json.dumps(movement(code=None)).encode(), "invalid_message", "code, sku, gtin or epc"),
        (b"{" + b" " * (300 * 1024) + b"}", "payload_too_large", "limit"),
    ],
)
def test_refusals_say_exactly_why(payload: bytes, reason: str, mentions: str) -> None:
    with pytest.raises(contracts.ContractError) as caught:
        contracts.decode_event(payload)
    assert caught.value.reason == reason
    assert mentions in caught.value.detail


def test_refusal_keeps_the_ids_it_could_read() -> None:
    doc = movement(qty="lots")
    with pytest.raises(contracts.ContractError) as caught:
        contracts.decode_event(json.dumps(doc).encode())
    assert str(caught.value.event_id) == doc["event_id"]
    assert (caught.value.agent_id, caught.value.site, caught.value.seq) == ("dock-1", "WH1", 1)


def test_topics() -> None:
    assert contracts.topic("WH1", "dock-1", "events") == "warehouse/v1/WH1/dock-1/events"
    assert contracts.parse_topic("warehouse/v1/WH1/dock-1/acks") == contracts.Topic(
        "WH1", "dock-1", "acks"
    )
    for bad in (
        "warehouse/v2/WH1/a/events",
        "warehouse/v1/WH1/a/other",
        "warehouse/v1/+/a/events",
        "x",
    ):
        assert contracts.parse_topic(bad) is None
    with pytest.raises(ValueError, match="agent_id"):
        contracts.topic("WH1", "a/b", "events")


def test_committed_json_schema_matches_the_models() -> None:
    """Fails when a model changed and `python -m warehouse.contracts.schema` was not run."""
    for name, text in schema.generate().items():
        committed = (ROOT / "docs" / "contract" / name).read_text(encoding="utf-8")
        assert committed == text, f"docs/contract/{name} is stale: regenerate it"


def doc_examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(b) for b in blocks]


def test_every_event_type_has_a_documented_example_that_decodes() -> None:
    events = [e for e in doc_examples() if "type" in e]
    assert sorted({str(e["type"]) for e in events}) == sorted(contracts.EVENT_TYPES)
    for example in events:
        contracts.decode_event(json.dumps(example).encode())


def test_documented_status_ack_and_command_decode() -> None:
    models = {
        "state": contracts.Status,
        "command_id": contracts.Command,
        "committed_at": contracts.Ack,
    }
    seen = set()
    for example in doc_examples():
        for key, model in models.items():
            if key in example:
                contracts.decode(model, json.dumps(example).encode())
                seen.add(key)
    assert seen == set(models)


def test_exported_members_are_pinned() -> None:
    import warehouse_drivers.decoding as decoding

    assert sorted(contracts.__all__) == sorted(
        name
        for name in dir(contracts)
        if not name.startswith("_")
        and name not in {"base", "codec", "messages", "register", "topics", "schema"}
    )
    assert decoding.__all__ == [
        "RCN_REGIONS",
        "DecodeError",
        "DecodedBarcode",
        "DecodedEpc",
        "Measure",
        "NdefRecord",
        "VariableMeasure",
        "decode_barcode",
        "decode_epc",
        "decode_epc_uri",
        "decode_ndef",
    ]


def test_the_fast_feedback_encoding_is_the_models() -> None:
    now = datetime(2026, 12, 2, 9, 14, 3, 200000, tzinfo=UTC)
    event_id = str(uuid.uuid4())
    fast = contracts.encode_feedback(
        "warn", "PO-1 line 2: 12 of 40 — über", "scanner-1", event_id, now
    )
    command = contracts.Command.model_validate_json(fast)
    model = contracts.Command(
        command_id=command.command_id,
        issued_at=now,
        body=contracts.FeedbackCommand(
            level="warn",
            text="PO-1 line 2: 12 of 40 — über",
            device="scanner-1",
            event_id=uuid.UUID(event_id),
        ),
    )
    assert fast == contracts.encode(model)
    bare = contracts.Command.model_validate_json(
        contracts.encode_feedback("ok", "x" * 300, None, None, now)
    )
    assert bare.body.text == "x" * 200  # type: ignore[union-attr]
