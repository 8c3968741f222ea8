"""The price book as registers get it: it says which products the registers will refuse (in the
price list's answer, the book, and the register's log), and the worker sends it to every agent
at the site, including one that appears after the book was first sent."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, events_topic
from tests.integration.pos_fixtures import ok
from warehouse import contracts, pricing
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.price_books import PublishPriceBooks
from warehouse.ingest.worker.translate import translate
from warehouse_edge.config import AgentConfig
from warehouse_edge.till import PriceBooks

API = "/api/v1"


@pytest.fixture
def client(seeded: Service) -> Any:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as c:
        yield c


def store(client: TestClient, prices: list[dict[str, Any]]) -> dict[str, Any]:
    place = {"code": "ST1-REG1", "name": "Till", "kind": "register", "parent_code": "ST1"}
    ok(client.post(f"{API}/locations", json=place))
    rate = {"site": "ST1", "category": "standard", "rate_percent": "20", "valid_from": "2020-01-01"}
    ok(client.post(f"{API}/pos/tax-rates", json=rate))
    ok(client.post(f"{API}/pos/registers", json={"location": "ST1-REG1"}))
    listed = {"site": "ST1", "name": "everyday", "currency": "EUR", "prices": prices}
    return dict(ok(client.post(f"{API}/pos/price-lists", json=listed)))


def heartbeat(service: Service, agent: str) -> None:
    body = {"v": 1, "event_id": str(uuid.uuid4()), "agent_id": agent, "site": "ST1", "seq": 1,
            "occurred_at": datetime.now(UTC).isoformat(), "type": "heartbeat",
            "data": {"uptime_s": 1}}  # fmt: skip
    item = translate(events_topic("ST1", agent), json.dumps(body).encode(), 256 * 1024)
    ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def test_a_price_list_says_which_products_the_registers_will_refuse(
    client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    answer = store(
        client,
        [
            {"sku": "TEA-GRN", "unit_price_minor": 499},
            {"sku": "WTR-6", "unit_price_minor": 299, "tax_category": "reduced"},  # no rate
        ],
    )
    active = len(ok(client.get(f"{API}/products", params={"limit": 500}), 200)["items"])
    assert answer["refused_count"] == active - 1  # all but the tea
    assert "WTR-6" in answer["refused"]
    assert "TEA-GRN" not in answer["refused"]
    assert answer["refused"] == sorted(answer["refused"])
    book = pricing.PriceBook.from_dict(
        ok(client.get(f"{API}/pos/price-book", params={"site": "ST1"}), 200)
    )
    assert (book.refused_count, book.refused) == (answer["refused_count"], tuple(answer["refused"]))
    config = AgentConfig.model_validate(
        {
            "agent_id": "till-1",
            "site": "ST1",
            "outbox": {"path": str(tmp_path / "o.db")},
            "stations": [{"name": "till", "mode": "pos", "location": "ST1-REG1"}],
        }
    )
    with caplog.at_level(logging.WARNING, logger="warehouse_edge.till"):
        PriceBooks(config).replace(book)
    assert f"{answer['refused_count']} products will be refused at the till" in caplog.text
    assert "WTR-6" in caplog.text


def test_the_book_reaches_every_agent_of_the_site_and_one_that_comes_later(
    client: TestClient, seeded: Service
) -> None:
    store(client, [{"sku": "TEA-GRN", "unit_price_minor": 499}])
    sent: list[tuple[str, str, str]] = []

    def command(site: str, agent: str, body: contracts.PriceBookCommand) -> None:
        sent.append((site, agent, body.version))

    chore = PublishPriceBooks(seeded, command)  # type: ignore[arg-type]
    chore.run()
    assert sent == []  # no agent has been heard from at ST1 yet
    heartbeat(seeded, "till-1")
    chore.run()
    chore.run()
    assert [(s, a) for s, a, _ in sent] == [("ST1", "till-1")]  # once
    heartbeat(seeded, "till-2")
    chore.run()
    assert [(s, a) for s, a, _ in sent] == [("ST1", "till-1"), ("ST1", "till-2")]
    more = {"site": "ST1", "name": "deals", "currency": "EUR", "priority": 5,
            "prices": [{"sku": "TEA-GRN", "unit_price_minor": 399}]}  # fmt: skip
    ok(client.post(f"{API}/pos/price-lists", json=more))
    chore.run()
    assert sorted(a for _, a, _ in sent[2:]) == ["till-1", "till-2"]  # the new book to both
    assert sent[2][2] != sent[0][2]
