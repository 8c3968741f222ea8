"""service_layer.ingest.ingest: an item that fails its batch is rejected alone, on both
databases; what the database cannot do right now is waited out, never rejected."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.helpers import events_topic, movement_payload
from warehouse.bootstrap import Service
from warehouse.core.failures import classify
from warehouse.floor.events import FloorEvent
from warehouse.ingest.adapters import queries
from warehouse.ingest.service.ingest import ingest
from warehouse.ingest.worker.translate import translate
from warehouse.stock.adapters import stock_queries

SITE, AGENT = "WH1", "iso-1"


def events(n: int) -> list[Any]:
    topic = events_topic(SITE, AGENT)
    return [
        translate(topic, movement_payload(SITE, AGENT, s, qty=1), 256 * 1024)
        for s in range(1, n + 1)
    ]


def rejected(service: Service) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        return queries.rejected_events(
            conn, reason=None, agent_id=None, limit=50, cursor=None
        ).items


def on_hand(service: Service) -> Any:
    with service.engine.connect() as conn:
        return stock_queries.stock_for_sku(conn, "COF-250")["on_hand"]


def test_a_value_the_database_refuses_is_rejected_alone(seeded: Service) -> None:
    items = events(9)
    # a station name the contract would refuse (over 64 characters), made by hand
    assert isinstance(items[4], FloorEvent)
    items[4] = replace(items[4], station="s" * 100)
    result = ingest(seeded.uow, seeded.catalog, items, datetime.now(UTC), classify)
    postgres = seeded.engine.dialect.name == "postgresql"
    assert result.applied == (8 if postgres else 9)  # SQLite stores any length
    assert result.acks == {(SITE, AGENT): 9}
    if postgres:
        (row,) = rejected(seeded)
        assert (row["reason"], row["seq"]) == ("database_error", 5)
        assert "too long" in row["detail"]


def test_a_bug_on_one_events_path_is_an_internal_error_for_it_alone(
    seeded: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = events(5)
    boom = translate(
        events_topic(SITE, AGENT),
        movement_payload(SITE, AGENT, 6, code="BOOM-1", lot=None),
        256 * 1024,
    )
    real = seeded.catalog.parser

    def parser(code: str) -> Any:
        if code == "BOOM-1":
            raise RuntimeError("a parser bug")
        return real(code)

    monkeypatch.setattr(seeded.catalog, "parser", parser)
    result = ingest(
        seeded.uow, seeded.catalog, [*items[:3], boom, *items[3:]], datetime.now(UTC), classify
    )
    assert (result.applied, result.poison) == (5, 1)
    (row,) = rejected(seeded)
    assert row["reason"] == "internal_error"
    assert "RuntimeError: a parser bug (error id " in row["detail"]
    assert on_hand(seeded) == 5


def test_an_unreachable_database_is_raised_to_the_caller_and_nothing_is_rejected(
    seeded: Service,
) -> None:
    calls = {"n": 0}

    def broken() -> Any:
        calls["n"] += 1
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    with pytest.raises(OperationalError):
        ingest(broken, seeded.catalog, events(3), datetime.now(UTC), classify)
    assert calls["n"] == 1  # not split, not retried: the worker waits it out
    assert rejected(seeded) == []


def test_a_serialization_failure_is_retried_before_anything_is_split(seeded: Service) -> None:
    failures = {"left": 2}
    sleeps: list[float] = []

    class Flaky(Exception):
        pass

    def kind(exc: BaseException) -> Any:
        return "retry" if isinstance(exc, Flaky) else classify(exc)

    def new_uow() -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise Flaky("could not serialize access")
        return seeded.uow()

    result = ingest(
        new_uow, seeded.catalog, events(4), datetime.now(UTC), kind, sleep=sleeps.append
    )
    assert (result.applied, result.poison, len(sleeps)) == (4, 0, 2)
