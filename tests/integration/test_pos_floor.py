"""Sales an edge register reports: already made, so never refused. A price the service does
not agree with is a ``price_mismatch`` exception, stock driven below zero a ``negative_stock``
one, an item the service does not know an ``unknown_item``; a sale reported twice counts once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import admin_headers, events_topic
from tests.integration.pos_fixtures import ok, open_store
from tests.integration.test_pos_pricing import sale_event
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.exceptions.adapters import tables
from warehouse.ingest.service.commands import IngestResult
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate

FE = tables.floor_exceptions


@pytest.fixture
def client(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def report(service: Service, seq: int, **data: Any) -> IngestResult:
    body = {
        "sale_id": f"edge-{seq}",
        "register": "ST1-REG1",
        "currency": "EUR",
        "receipt_no": seq,
        "cashier": "cashier-1",
        **data,
    }
    item = translate(events_topic("ST1", "till-1"), sale_event("ST1", seq, body), 256 * 1024)
    return ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def on_hand(client: TestClient, sku: str) -> str:
    rows = client.get(f"/api/v1/stock/{sku}").json()["locations"]
    return next((r["on_hand"] for r in rows if r["location"] == "ST1-REG1"), "0")


def exceptions(service: Service) -> list[tuple[str, str | None, str]]:
    with service.engine.connect() as conn:
        rows = conn.execute(select(FE.c.kind, FE.c.sku, FE.c.detail).order_by(FE.c.id)).all()
    return [(r.kind, r.sku, r.detail) for r in rows]


def test_a_register_sale_is_recorded_even_when_the_service_disagrees(
    client: TestClient, seeded: Service
) -> None:
    open_store(client, stock={"TEA-GRN": 1, "WTR-6": 5})
    # the register charged 4.00 for tea the service sells at 4.99, and sold two of one
    result = report(
        seeded,
        1,
        lines=[{"sku": "TEA-GRN", "qty": 2, "unit_price_minor": 400}],
        total_minor=800,
        tenders=[{"kind": "cash", "amount_minor": 800}],
    )
    assert (result.applied, result.rejected, result.acks) == (1, 0, {("ST1", "till-1"): 1})
    assert on_hand(client, "TEA-GRN") == "-1"
    kinds = [(kind, sku) for kind, sku, _ in exceptions(seeded)]
    assert ("price_mismatch", None) in kinds
    assert ("negative_stock", "TEA-GRN") in kinds
    mismatch = next(d for k, _, d in exceptions(seeded) if k == "price_mismatch")
    assert "800" in mismatch
    assert "998" in mismatch
    recorded = ok(client.get("/api/v1/pos/sales/edge-1"), 200)
    assert (recorded["receipt_no"], recorded["total_minor"]) == (1, 998)  # the service's prices
    assert recorded["reported_total_minor"] == 800


def test_an_unknown_item_moves_nothing_and_the_rest_of_the_sale_stands(
    client: TestClient, seeded: Service
) -> None:
    open_store(client)
    result = report(
        seeded,
        1,
        lines=[
            {"sku": "WTR-6", "qty": 1, "unit_price_minor": 299},
            {"code": "4006381333931", "qty": 1, "unit_price_minor": 150},
        ],
        total_minor=449,
        tenders=[{"kind": "card", "amount_minor": 449, "reference": "A1"}],
    )
    assert (result.applied, result.rejected) == (1, 0)
    assert on_hand(client, "WTR-6") == "19"
    kinds = [kind for kind, _, _ in exceptions(seeded)]
    assert "unknown_item" in kinds


def test_a_sale_reported_twice_under_new_event_ids_counts_once(
    client: TestClient, seeded: Service
) -> None:
    open_store(client)
    sale = {
        "lines": [{"sku": "TEA-BLK", "qty": 3, "unit_price_minor": 349}],
        "total_minor": 1047,
        "tenders": [{"kind": "card", "amount_minor": 1047}],
    }
    report(seeded, 1, **sale)
    again = {"sale_id": "edge-1", "receipt_no": 1, **sale}
    body = {"register": "ST1-REG1", "currency": "EUR", "cashier": "cashier-1", **again}
    item = translate(events_topic("ST1", "till-1"), sale_event("ST1", 2, body), 256 * 1024)
    ingest_batch(seeded.uow(), seeded.catalog, [item], datetime.now(UTC))
    assert on_hand(client, "TEA-BLK") == "17"
    assert exceptions(seeded) == []
