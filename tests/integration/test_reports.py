"""Reports from orders and the ledger, as JSON and CSV; serialized units and sweeps."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, events_topic, movement_payload, token_for
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate

TEA, PASTA = "5901230001025", "5901230001087"


@pytest.fixture
def client(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def floor(service: Service, seq: int, **data: object) -> None:
    payload = movement_payload("WH1", "floor-1", seq, lot=None, **data)
    item = translate(events_topic("WH1", "floor-1"), payload, 256 * 1024)
    ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def test_reports_follow_orders_and_the_ledger(seeded: Service, client: TestClient) -> None:
    assert (
        client.post(
            "/api/v1/purchase-orders",
            json={
                "ref": "PO-1",
                "site": "WH1",
                "supplier": "Tea Co",
                "lines": [{"sku": "TEA-GRN", "qty": "40"}],
            },
        ).status_code
        == 201
    )
    floor(seeded, 1, kind="receive", code=TEA, qty=40, to_location="WH1-A-01", order_ref="PO-1")
    time.sleep(0.01)
    before = datetime.now(UTC)
    time.sleep(0.01)
    client.post(
        "/api/v1/sales-orders",
        json={
            "ref": "SO-1",
            "site": "WH1",
            "customer": "C",
            "lines": [{"sku": "TEA-GRN", "qty": "30"}],
        },
    )
    client.post(
        "/api/v1/sales-orders",
        json={
            "ref": "SO-2",
            "site": "WH1",
            "customer": "C",
            "lines": [{"sku": "TEA-GRN", "qty": "10"}],
        },
    )
    client.post("/api/v1/sales-orders/SO-1/confirm")
    floor(
        seeded,
        2,
        kind="pick",
        code=PASTA,
        qty=1,
        from_location="WH1-A-01",
        to_location="WH1-PACK",
        order_ref="SO-1",
    )  # refused: a wrong item
    floor(
        seeded,
        3,
        kind="pick",
        code=TEA,
        qty=30,
        from_location="WH1-A-01",
        to_location="WH1-PACK",
        order_ref="SO-1",
    )
    sscc = client.post("/api/v1/sales-orders/SO-1/packages").json()["sscc"]
    client.post(f"/api/v1/packages/{sscc}/ship")

    low = client.get("/api/v1/reports/low-stock", params={"site": "WH1"}).json()["items"]
    tea = next(r for r in low if r["sku"] == "TEA-GRN")
    assert (tea["available"], tea["reorder_point"], tea["short"]) == ("10", "30", "20")
    reorder = client.get(
        "/api/v1/reports/reorder", params={"site": "WH1", "window_days": 1, "cover_days": 0}
    ).json()["items"]
    tea = next(r for r in reorder if r["sku"] == "TEA-GRN")
    assert (tea["daily_sales"], tea["supplier"], tea["days_of_cover"]) == (
        "30.000",
        "Tea Co",
        "0.3",
    )
    assert tea["lead_days"] == "0"  # PO-1 was received within the day it was ordered
    assert int(tea["suggested_qty"]) >= 20  # back to the reorder point at least
    fill = client.get("/api/v1/reports/fill-rate", params={"site": "WH1"}).json()["items"][0]
    assert (
        fill["orders"],
        fill["orders_complete"],
        fill["units_ordered"],
        fill["units_shipped"],
        fill["fill_rate"],
    ) == (2, 1, "40", "30", "0.75")
    accuracy = client.get("/api/v1/reports/pick-accuracy", params={"site": "WH1"}).json()
    assert [(r["picks"], r["refused"], r["accuracy"]) for r in accuracy["items"]] == [(1, 1, "0.5")]
    then = client.get(
        "/api/v1/reports/stock-as-of",
        params={"site": "WH1", "at": before.isoformat(), "sku": "TEA-GRN"},
    )
    assert then.json()["items"] == [
        {"sku": "TEA-GRN", "location": "WH1-A-01", "lot": None, "on_hand": "40"}
    ]
    now = client.get(
        "/api/v1/reports/stock-as-of",
        params={"site": "WH1", "at": datetime.now(UTC).isoformat(), "sku": "TEA-GRN"},
    ).json()["items"]
    assert [(r["location"], r["on_hand"]) for r in now] == [("WH1-A-01", "10")]
    exported = client.get("/api/v1/reports/low-stock", params={"site": "WH1", "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"sku", "available", "reorder_point"} <= set(rows[0])
    assert any(r["sku"] == "TEA-GRN" and r["short"] == "20" for r in rows)


def test_reports_need_a_site_one_may_see(seeded: Service, client: TestClient) -> None:
    staff = {"Authorization": f"Bearer {token_for(seeded, 'manager@ST1')}"}
    assert client.get("/api/v1/reports/low-stock", headers=staff).status_code == 200  # ST1
    assert (
        client.get("/api/v1/reports/low-stock", params={"site": "WH1"}, headers=staff).status_code
        == 403
    )
    assert client.get("/api/v1/reports/low-stock").status_code == 422  # admin: name one


def test_units_and_sweeps_can_be_read(seeded: Service, client: TestClient) -> None:
    floor(
        seeded, 1, kind="receive", code="]C1010590123000125421SN-1", qty=1, to_location="WH1-DOCK-1"
    )
    page = client.get("/api/v1/units", params={"sku": "HDP-BT"}).json()
    assert [(u["serial"], u["location"]) for u in page["items"]] == [("SN-1", "WH1-DOCK-1")]
    assert client.get("/api/v1/units", params={"location": "NOWHERE"}).status_code == 404
    assert client.get("/api/v1/rfid-sweeps", params={"site": "WH1"}).json() == {
        "items": [],
        "next_cursor": None,
    }
