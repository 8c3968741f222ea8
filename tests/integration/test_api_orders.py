"""Orders through the HTTP API: lifecycles, refusals as problem details, labels, the queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, events_topic, movement_payload, token_for
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate

ASN = "106141411234567897"
PACK_SEQ = iter(range(1, 1000))
TEA = "5901230001025"


@pytest.fixture
def client(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def floor(service: Service, agent: str, seq: int, **data: object) -> None:
    item = translate(
        events_topic("WH1", agent),
        movement_payload("WH1", agent, seq, lot=None, **data),
        256 * 1024,
    )
    ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def pack_check(service: Service, code: str) -> list[tuple[str, str]]:
    """A packing station's scan of ``code`` for SO-7; what the station is told."""
    doc = json.loads(movement_payload("WH1", "packer-1", next(PACK_SEQ)))
    doc.update(type="scan", data={"code": code, "location": "WH1-PACK", "order_ref": "SO-7"})
    item = translate(events_topic("WH1", "packer-1"), json.dumps(doc).encode(), 256 * 1024)
    result = ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))
    return [(f.level, f.text) for f in result.feedback]


def test_purchase_orders_are_created_listed_refused_and_closed(client: TestClient) -> None:
    body = {
        "ref": "PO-1042",
        "site": "WH1",
        "supplier": "Tea Traders",
        "lines": [{"sku": "TEA-GRN", "qty": "40"}],
        "packages": {ASN: [{"sku": "TEA-GRN", "qty": "10"}]},
    }
    created = client.post("/api/v1/purchase-orders", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["packages"] == [{"sscc": ASN, "status": "expected"}]
    again = client.post("/api/v1/purchase-orders", json=body)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    bad_check = {**body, "ref": "PO-2", "packages": {ASN[:-1] + "0": body["packages"][ASN]}}
    refused = client.post("/api/v1/purchase-orders", json=bad_check)
    assert refused.status_code == 422
    assert "check digit" in refused.json()["detail"]
    unknown = client.post(
        "/api/v1/purchase-orders",
        json={**body, "ref": "PO-3", "packages": {}, "lines": [{"sku": "NOPE", "qty": "1"}]},
    )
    assert unknown.status_code == 404
    assert "lines[0].sku 'NOPE'" in unknown.json()["detail"]
    assert (
        client.post(
            "/api/v1/purchase-orders", json={**body, "ref": "PO-4", "site": "WH1-A-01"}
        ).status_code
        == 404
    )
    page = client.get("/api/v1/purchase-orders", params={"status": "open"}).json()
    assert [o["ref"] for o in page["items"]] == ["PO-1042"]
    closed = client.post("/api/v1/purchase-orders/PO-1042/close").json()
    assert (closed["order"]["status"], closed["short_lines"]) == ("closed", 1)
    queue = client.get("/api/v1/exceptions", params={"kind": "short_receipt"}).json()["items"]
    assert [(x["order_ref"], x["qty"], x["suggestions"]) for x in queue] == [
        ("PO-1042", "40", ["accept", "dismiss"])
    ]
    resolved = client.post(
        f"/api/v1/exceptions/{queue[0]['id']}/resolve", json={"resolution": "dismiss"}
    )
    assert resolved.status_code == 422  # a dismissal needs a note
    resolved = client.post(
        f"/api/v1/exceptions/{queue[0]['id']}/resolve",
        json={"resolution": "accept", "note": "supplier short-shipped"},
    )
    assert resolved.json()["exception"]["status"] == "resolved"
    audit = client.get("/api/v1/audit", params={"action": "exception.resolve"}).json()["items"]
    assert len(audit) == 1


def test_a_sales_order_through_the_api_and_the_floor(seeded: Service, client: TestClient) -> None:
    floor(seeded, "putaway-1", 1, kind="receive", code=TEA, qty=8, to_location="WH1-A-01")
    order = {
        "ref": "SO-7",
        "site": "WH1",
        "customer": "Corner Cafe",
        "lines": [{"sku": "TEA-GRN", "qty": "5"}],
        "reserve_minutes": 60,
    }
    assert client.post("/api/v1/sales-orders", json=order).json()["status"] == "draft"
    confirmed = client.post("/api/v1/sales-orders/SO-7/confirm").json()
    assert confirmed["status"] == "confirmed"
    assert confirmed["pick_tasks"] == [
        {
            "line": 1,
            "sku": "TEA-GRN",
            "location": "WH1-A-01",
            "lot": None,
            "to_pick": "5",
            "picked": "0",
        }
    ]
    assert confirmed["reserved_until"] is not None
    stock = client.get("/api/v1/stock/TEA-GRN").json()
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == ("8", "5", "3")
    assert client.post("/api/v1/sales-orders/SO-7/packages").status_code == 409  # nothing picked
    floor(
        seeded,
        "picker-1",
        1,
        kind="pick",
        code=TEA,
        qty=5,
        from_location="WH1-A-01",
        to_location="WH1-PACK",
        order_ref="SO-7",
    )
    assert pack_check(seeded, TEA) == [("ok", "SO-7: TEA-GRN, 5 picked to pack")]
    assert pack_check(seeded, "5901230001087") == [("error", "PST-500 is not on SO-7")]
    package = client.post("/api/v1/sales-orders/SO-7/packages")
    assert package.status_code == 201, package.text
    sscc = package.json()["sscc"]
    assert package.json()["contents"][0]["location"] == "WH1-PACK"
    zpl = client.get(f"/api/v1/packages/{sscc}/label")
    assert zpl.headers["content-type"].startswith("text/plain")
    assert f"^FD>;>800{sscc}^FS" in zpl.text
    assert "TO: Corner Cafe" in zpl.text
    pdf = client.get(f"/api/v1/packages/{sscc}/label", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    shipped = client.post(f"/api/v1/packages/{sscc}/ship")
    assert shipped.json()["status"] == "shipped"
    assert client.post(f"/api/v1/packages/{sscc}/ship").status_code == 409
    final = client.get("/api/v1/sales-orders/SO-7").json()
    assert (final["status"], final["lines"][0]["shipped"]) == ("shipped", "5")
    stock = client.get("/api/v1/stock/TEA-GRN").json()
    assert (stock["on_hand"], stock["reserved"]) == ("3", "0")


def test_a_role_at_another_site_sees_none_of_its_orders(
    seeded: Service, client: TestClient
) -> None:
    client.post(
        "/api/v1/sales-orders",
        json={
            "ref": "SO-9",
            "site": "WH1",
            "customer": "C",
            "lines": [{"sku": "TEA-GRN", "qty": "1"}],
        },
    )
    other = {"Authorization": f"Bearer {token_for(seeded, 'manager@ST1')}"}
    assert client.get("/api/v1/sales-orders", headers=other).json()["items"] == []
    assert client.get("/api/v1/sales-orders/SO-9", headers=other).status_code == 403
    assert client.post("/api/v1/sales-orders/SO-9/confirm", headers=other).status_code == 403
