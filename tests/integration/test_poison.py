"""Poison events against a real worker and Mosquitto, on SQLite and PostgreSQL: each is
recorded with its reason, the worker stays up, and the next good event of another agent is
applied within seconds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from tests.helpers import events_topic, movement_payload, wait_for
from warehouse.bootstrap import Service
from warehouse.ingest.adapters import queries
from warehouse.stock.adapters import stock_queries, tables

pytestmark = pytest.mark.mosquitto


def envelope(site: str, agent: str, number: int, **fields: object) -> bytes:
    doc = json.loads(movement_payload(site, agent, number))
    doc.update(fields)
    return json.dumps(doc).encode()


def corpus(site: str) -> list[tuple[str, str, bytes, str]]:
    """(name, topic, payload, reason) of every class of bad input reported against the worker."""
    agent = "poison-1"
    topic = events_topic(site, agent)
    deep = b'{"v": 1, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    nested_in_good = envelope(site, agent, 90)[:-1] + b', "x": ' + b"[" * 10_000 + b"]" * 10_000
    nested_in_good += b"}"
    long_agent = "a" * 300
    return [
        ("not JSON", topic, b"hello", "not_json"),
        ("not UTF-8", topic, b"\xff\xfe\x00garbage", "not_utf8"),
        ("oversized", topic, b'{"pad": "' + b"x" * 300_000 + b'"}', "payload_too_large"),
        ("wrong types", topic, envelope(site, agent, 1, seq="seven"), "invalid_message"),
        ("unknown type", topic, envelope(site, agent, 2, type="teleport"), "unknown_type"),
        ("unknown version", topic, envelope(site, agent, 3, v=7), "unsupported_version"),
        (
            "topic mismatch",
            events_topic(site, "someone-else"),
            envelope(site, agent, 4),
            "topic_mismatch",
        ),
        ("10,000 nested arrays", topic, deep, "too_deep"),
        ("deep nesting in an ignored field", topic, nested_in_good, "too_deep"),
        (
            "time before year 1 in UTC",
            topic,
            envelope(site, agent, 5, occurred_at="0001-01-01T00:00:00+01:00"),
            "invalid_message",
        ),
        (
            "time after 9999 in UTC",
            topic,
            envelope(site, agent, 6, occurred_at="9999-12-31T23:59:59-01:00"),
            "invalid_message",
        ),
        ("boot of 2^63", topic, envelope(site, agent, 7, boot=2**63), "invalid_message"),
        ("seq of 2^63", topic, envelope(site, agent, 2**63), "invalid_message"),
        ("a NUL in a string", topic, envelope(site, agent, 8, station="a\x00b"), "invalid_message"),
        (
            "a 300-character agent level",
            events_topic(site, "x").replace("/x/", f"/{long_agent}/"),
            envelope(site, long_agent[:64], 9),
            "topic_mismatch",
        ),
    ]


class Publisher:
    """A plain MQTT 5 client publishing QoS 1 and waiting for the broker's PUBACK."""

    def __init__(self, host: str, port: int) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"poison-{uuid.uuid4().hex[:6]}", protocol=5
        )
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: tuple[str, int]) -> Iterator[Publisher]:
    pub = Publisher(*mosquitto)
    yield pub
    pub.close()


def reasons(service: Service) -> list[str]:
    with service.engine.connect() as conn:
        page = queries.rejected_events(conn, reason=None, agent_id=None, limit=500, cursor=None)
    return [r["reason"] for r in page.items]


def applied(service: Service, agent: str) -> int:
    with service.engine.connect() as conn:
        query = (
            select(func.count())
            .select_from(tables.movements)
            .where(tables.movements.c.agent_id == agent)
        )
        return int(conn.execute(query).scalar_one())


def test_every_poison_is_recorded_and_the_next_good_event_flows(
    seeded: Service, ingest: object, site: str, publisher: Publisher
) -> None:
    good_agent = "healthy-1"
    for n, (name, topic, payload, reason) in enumerate(corpus(site), start=1):
        before = len(reasons(seeded))
        publisher.send(topic, payload)
        publisher.send(events_topic(site, good_agent), movement_payload(site, good_agent, n))
        started = time.monotonic()
        wait_for(lambda n=n: applied(seeded, good_agent) == n, timeout=10)
        waited = time.monotonic() - started
        assert waited < 5, f"{name}: the next good event waited {waited:.1f}s"
        wait_for(lambda before=before: len(reasons(seeded)) == before + 1, timeout=5)
        assert reasons(seeded)[0] == reason, name
        assert ingest.fatal is None
        assert ingest.internal_errors == 0


def test_a_rejected_topic_keeps_its_agent_and_site(
    seeded: Service, ingest: object, site: str, publisher: Publisher
) -> None:
    publisher.send(events_topic(site, "dock-7"), b"garbage")
    wait_for(lambda: len(reasons(seeded)) == 1)
    with seeded.engine.connect() as conn:
        (row,) = queries.rejected_events(
            conn, reason=None, agent_id="dock-7", limit=5, cursor=None
        ).items
    assert (row["site"], row["reason"]) == (site, "not_json")


def test_a_balance_overflow_is_rejected_alone_and_the_rest_of_its_batch_applies(
    seeded: Service, ingest: object, site: str, publisher: Publisher
) -> None:
    """Ten receipts of 999,999,999,999: the tenth would take the dock past what a balance holds.
    Published together with another agent's events, so they share batches."""
    for seq in range(1, 11):
        publisher.send(
            events_topic(site, "big-1"),
            movement_payload(
                site, "big-1", seq, code="5901230001025", lot=None, qty=999_999_999_999
            ),
        )
        publisher.send(events_topic(site, "small-1"), movement_payload(site, "small-1", seq))
    wait_for(lambda: applied(seeded, "small-1") == 10 and applied(seeded, "big-1") == 9)
    wait_for(lambda: reasons(seeded) == ["quantity_out_of_range"])
    with seeded.engine.connect() as conn:
        stock = stock_queries.stock_for_sku(conn, "TEA-GRN")
        agents = {
            a["agent_id"]: a["acked_seq"] for a in queries.agents(conn, registered_only=False)
        }
    assert stock["on_hand"] == Decimal(999_999_999_999) * 9
    assert agents == {"big-1": 10, "small-1": 10}  # the rejected one is acked too


def test_a_conflicting_duplicate_is_recorded_once_with_both_bodies(
    seeded: Service, ingest: object, site: str, publisher: Publisher
) -> None:
    event_id = str(uuid.uuid4())
    topic = events_topic(site, "dup-1")
    first = movement_payload(site, "dup-1", 1, event_id=event_id, qty=2)
    other = movement_payload(site, "dup-1", 1, event_id=event_id, qty=200)
    publisher.send(topic, first)
    wait_for(lambda: applied(seeded, "dup-1") == 1)
    for _ in range(3):
        publisher.send(topic, other)
        publisher.send(topic, first)  # a plain re-send stays a plain duplicate
    worker: Any = ingest
    # six copies: conflicts, plain duplicates, or twins collapsed in the worker's buffer
    wait_for(
        lambda: worker.totals.conflicts + worker.totals.duplicates + worker.buffer.collapsed == 6
    )
    assert worker.totals.conflicts >= 1
    with seeded.engine.connect() as conn:
        (row,) = queries.rejected_events(
            conn, reason="conflicting_duplicate", agent_id=None, limit=5, cursor=None
        ).items
        stock = stock_queries.stock_for_sku(conn, "COF-250")["on_hand"]
    assert row["event_id"] == event_id
    assert json.loads(row["payload"])["data"]["qty"] == 200
    assert json.loads(row["original_payload"])["data"]["qty"] == 2
    assert stock == 2
