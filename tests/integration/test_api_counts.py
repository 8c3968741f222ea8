"""Returns and cycle counts through the API and the floor: partial returns never beyond what
was shipped, counts by scan and by hand, staleness refused until refreshed, the variance
posted on approval, blind counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, events_topic, movement_payload, token_for
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.ingest.service.commands import IngestResult
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate

TEA = "5901230001025"
SEQ = iter(range(1, 10_000))


@pytest.fixture
def client(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def send(service: Service, agent: str, payload: bytes) -> IngestResult:
    item = translate(events_topic("WH1", agent), payload, 256 * 1024)
    return ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def move(service: Service, **data: object) -> IngestResult:
    return send(service, "floor-1", movement_payload("WH1", "floor-1", next(SEQ), lot=None, **data))


def scan(service: Service, code: str, location: str) -> IngestResult:
    doc = {
        "v": 1,
        "event_id": str(uuid.uuid4()),
        "agent_id": "counter-1",
        "site": "WH1",
        "seq": next(SEQ),
        "boot": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "type": "scan",
        "device": "scanner-1",
        "station": "counting",
        "data": {"code": code, "location": location},
    }
    return send(service, "counter-1", json.dumps(doc).encode())


def stock(client: TestClient, sku: str, location: str) -> str:
    rows = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location, "include_zero": True}
    ).json()["items"]
    return str(sum(int(r["on_hand"]) for r in rows))


def test_a_partial_return_restocks_and_scraps_and_never_exceeds_the_shipment(
    seeded: Service, client: TestClient
) -> None:
    move(seeded, kind="receive", code=TEA, qty=5, to_location="WH1-A-01")
    client.post(
        "/api/v1/sales-orders",
        json={
            "ref": "SO-1",
            "site": "WH1",
            "customer": "C",
            "lines": [{"sku": "TEA-GRN", "qty": "5"}],
        },
    )
    client.post("/api/v1/sales-orders/SO-1/confirm")
    move(
        seeded,
        kind="pick",
        code=TEA,
        qty=5,
        from_location="WH1-A-01",
        to_location="WH1-PACK",
        order_ref="SO-1",
    )
    sscc = client.post("/api/v1/sales-orders/SO-1/packages").json()["sscc"]
    client.post(f"/api/v1/packages/{sscc}/ship")
    body = {
        "ref": "RMA-1",
        "order_ref": "SO-1",
        "location": "WH1-DOCK-2",
        "lines": [
            {"sku": "TEA-GRN", "qty": "2", "disposition": "restock", "to_location": "WH1-A-01"},
            {"sku": "TEA-GRN", "qty": "1", "disposition": "scrap"},
        ],
    }
    created = client.post("/api/v1/returns", json=body)
    assert created.status_code == 201, created.text
    assert len(created.json()["movement_ids"]) == 4
    assert stock(client, "TEA-GRN", "WH1-A-01") == "2"
    assert stock(client, "TEA-GRN", "WH1-DOCK-2") == "0"
    order = client.get("/api/v1/sales-orders/SO-1").json()
    assert order["lines"][0]["returned"] == "3"
    again = client.post(
        "/api/v1/returns",
        json={
            **body,
            "ref": "RMA-2",
            "lines": [{"sku": "TEA-GRN", "qty": "3", "disposition": "restock"}],
        },
    )
    assert again.status_code == 422
    assert again.json()["detail"] == (
        "lines[0]: 2 x TEA-GRN can be returned (5 shipped, 3 returned before), not 3"
    )
    assert client.post("/api/v1/returns", json=body).status_code == 409  # RMA-1 exists
    quarantine = {
        **body,
        "ref": "RMA-3",
        "lines": [{"sku": "TEA-GRN", "qty": "1", "disposition": "quarantine"}],
    }
    assert client.post("/api/v1/returns", json=quarantine).status_code == 422


def test_a_count_by_scan_goes_stale_is_refreshed_and_posts_its_variance(
    seeded: Service, client: TestClient
) -> None:
    move(seeded, kind="receive", code=TEA, qty=10, to_location="WH1-A-01")
    started = client.post(
        "/api/v1/counts", json={"ref": "CNT-1", "location": "WH1-A", "blind": True}
    )
    assert started.status_code == 201, started.text
    assert started.json()["lines"][0]["book"] == "10"  # an admin sees a blind count's book
    for _ in range(7):
        told = scan(seeded, TEA, "WH1-A-01")
    assert [(f.level, f.text) for f in told.feedback] == [("ok", "CNT-1: 7 x TEA-GRN at WH1-A-01")]
    staff = {"Authorization": f"Bearer {token_for(seeded, 'staff@WH1')}"}
    blind = client.get("/api/v1/counts/CNT-1", headers=staff).json()
    assert blind["lines"] == [
        {
            "sku": "TEA-GRN",
            "location": "WH1-A-01",
            "lot": None,
            "book": None,
            "counted": "7",
            "variance": None,
        }
    ]
    assert client.post("/api/v1/counts/CNT-1/approve", headers=staff).status_code == 403
    move(
        seeded, kind="transfer", code=TEA, qty=1, from_location="WH1-A-01", to_location="WH1-B-01"
    )  # stock moves in the counted location meanwhile
    assert client.get("/api/v1/counts/CNT-1").json()["stale"] is True
    refused = client.post("/api/v1/counts/CNT-1/approve")
    assert refused.status_code == 409
    assert "is stale" in refused.json()["detail"]
    refreshed = client.post("/api/v1/counts/CNT-1/refresh").json()
    assert (refreshed["stale"], refreshed["lines"][0]["book"]) == (False, "9")
    entered = client.post(
        "/api/v1/counts/CNT-1/entries",
        json={
            "entries": [
                {"sku": "TEA-GRN", "location": "WH1-A-01", "qty": "6"},
                {"sku": "PST-500", "location": "WH1-A-02", "qty": "2"},
            ]
        },
    ).json()
    assert [(x["sku"], x["variance"]) for x in entered["lines"]] == [
        ("TEA-GRN", "-3"),
        ("PST-500", "2"),
    ]
    outside = client.post(
        "/api/v1/counts/CNT-1/entries",
        json={"entries": [{"sku": "TEA-GRN", "location": "WH1-B-01", "qty": "1"}]},
    )
    assert outside.status_code == 422
    approved = client.post("/api/v1/counts/CNT-1/approve").json()
    assert (approved["status"], len(approved["movement_ids"])) == ("approved", 2)
    assert stock(client, "TEA-GRN", "WH1-A-01") == "6"
    assert stock(client, "PST-500", "WH1-A-02") == "2"
    assert client.post("/api/v1/counts/CNT-1/approve").status_code == 409
    assert not scan(seeded, TEA, "WH1-A-01").feedback  # no open count: nothing to say


def test_an_unknown_code_scanned_in_a_count_is_an_exception(
    seeded: Service, client: TestClient
) -> None:
    client.post("/api/v1/counts", json={"ref": "CNT-2", "location": "WH1-B-01"})
    told = scan(seeded, "MYSTERY-1", "WH1-B-01")
    assert told.feedback[0].level == "error"
    items = client.get("/api/v1/exceptions", params={"kind": "unknown_code"}).json()["items"]
    assert [(x["code"], x["location"]) for x in items] == [("MYSTERY-1", "WH1-B-01")]


def test_transfers_within_a_site_and_through_transit_with_a_discrepancy(
    seeded: Service, client: TestClient
) -> None:
    move(seeded, kind="receive", code=TEA, qty=20, to_location="WH1-A-01")
    local = {
        "ref": "TO-1",
        "from_location": "WH1-A-01",
        "to_location": "WH1-B-01",
        "lines": [{"sku": "TEA-GRN", "qty": "5"}],
    }
    assert client.post("/api/v1/transfers", json=local).status_code == 201
    assert client.post("/api/v1/transfers/TO-1/ship").json()["status"] == "received"
    assert stock(client, "TEA-GRN", "WH1-B-01") == "5"
    away = {
        **local,
        "ref": "TO-2",
        "to_location": "ST1-BACK",
        "lines": [{"sku": "TEA-GRN", "qty": "10"}],
    }
    assert client.post("/api/v1/transfers", json=away).status_code == 201
    assert client.post("/api/v1/transfers/TO-2/receive").status_code == 409  # not shipped
    shipped = client.post("/api/v1/transfers/TO-2/ship").json()
    assert (shipped["status"], shipped["lines"][0]["shipped"]) == ("in_transit", "10")
    assert stock(client, "TEA-GRN", "WH1-A-01") == "5"
    in_transit = client.get(
        "/api/v1/stock", params={"sku": "TEA-GRN", "location": "TRANSIT", "include_virtual": True}
    ).json()["items"]
    assert in_transit[0]["on_hand"] == "10"
    store = {"Authorization": f"Bearer {token_for(seeded, 'staff@ST1')}"}
    arrived = client.post(
        "/api/v1/transfers/TO-2/receive",
        headers=store,
        json={"lines": [{"sku": "TEA-GRN", "qty": "9"}]},
    )
    assert arrived.json()["lines"][0]["received"] == "9", arrived.text
    assert stock(client, "TEA-GRN", "ST1-BACK") == "9"
    (gap,) = client.get("/api/v1/exceptions", params={"kind": "transfer_discrepancy"}).json()[
        "items"
    ]
    assert (gap["order_ref"], gap["qty"], gap["site"]) == ("TO-2", "1", "ST1")
    too_much = {**local, "ref": "TO-3", "lines": [{"sku": "TEA-GRN", "qty": "500"}]}
    client.post("/api/v1/transfers", json=too_much)
    assert client.post("/api/v1/transfers/TO-3/ship").status_code == 409  # would oversell


def test_an_rfid_sweep_counts_the_units_it_saw(seeded: Service, client: TestClient) -> None:
    tags = [f"3035682EB8001F40000012{n:02X}" for n in (0x67, 0x68, 0x69)]  # HDP-BT 4711..4713

    def observe(**data: object) -> IngestResult:
        doc = json.loads(movement_payload("WH1", "sweeper-1", next(SEQ)))
        doc.update(type="observation", data={"zone": "WH1-B-02", "location": "WH1-B-02", **data})
        return send(seeded, "sweeper-1", json.dumps(doc).encode())

    observe(arrivals=[{"epc": t} for t in tags])  # three units arrive at WH1-B-02
    client.post("/api/v1/counts", json={"ref": "CNT-RF", "location": "WH1-B-02"})
    observe(snapshot=[{"epc": t} for t in tags[:2]])  # the sweep sees two of them
    count = client.get("/api/v1/counts/CNT-RF").json()
    assert [(x["sku"], x["book"], x["counted"]) for x in count["lines"]] == [("HDP-BT", "0", "2")]
