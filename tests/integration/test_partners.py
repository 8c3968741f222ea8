"""Suppliers and customers as records, on SQLite and PostgreSQL: their fields checked (a GLN's
check digit, a role), what a supplier sells (lead time, minimum, multiple, cost), orders that
name their partner, and the reorder proposal per supplier turned into draft purchase orders
that take no receipts until confirmed and then cost what the supplier charges."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok
from tests.integration.test_orders import TEA, Floor
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.catalog.domain import gs1_check_digit

GLN = "590123400000" + str(gs1_check_digit("590123400000"))
SUPPLIER: dict[str, Any] = {
    "code": "SUP-TEA",
    "name": "Tea Traders Ltd",
    "supplier": True,
    "gln": GLN,
    "currency": "EUR",
    "payment_terms_days": 30,
    "lead_time_days": 5,
    "address": {
        "street": "1 Dock Road",
        "city": "Gdansk",
        "postal_code": "80-001",
        "country": "PL",
    },
    "contacts": [{"name": "Ola", "email": "orders@tea.example", "role": "orders"}],
}
ITEM = {"sku": "TEA-GRN", "lead_time_days": 3, "min_order_qty": "24", "order_multiple": "12",
        "unit_cost_minor": 215, "preferred": True}  # fmt: skip


@pytest.fixture
def api(seeded: Service) -> TestClient:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    ok(client.post("/api/v1/partners", json=SUPPLIER))
    ok(client.put("/api/v1/partners/SUP-TEA/items", json={"items": [ITEM]}), 200)
    return client


def test_partners_are_records_with_checked_fields(seeded: Service, api: TestClient) -> None:
    shown = ok(api.get("/api/v1/partners/SUP-TEA"), 200)
    assert {k: shown[k] for k in SUPPLIER} == {
        **SUPPLIER,
        "contacts": [{**SUPPLIER["contacts"][0], "phone": None}],
    }
    assert [(i["sku"], i["min_order_qty"], i["order_multiple"]) for i in shown["items"]] == [
        ("TEA-GRN", "24", "12")
    ]
    cafe = {"code": "CUS-CAFE", "name": "Corner Cafe", "customer": True}
    ok(api.post("/api/v1/partners", json=cafe))
    listed = ok(api.get("/api/v1/partners", params={"role": "customer"}), 200)["items"]
    assert [p["code"] for p in listed] == ["CUS-CAFE"]
    for body, code, field in (
        (SUPPLIER, 409, "code"),
        ({**SUPPLIER, "code": "SUP-2"}, 409, "gln"),
        ({**SUPPLIER, "code": "SUP-3", "gln": GLN[:-1] + str((int(GLN[-1]) + 1) % 10)}, 422, "gln"),
        ({"code": "NOBODY", "name": "Nobody"}, 422, "supplier"),
    ):
        answer = api.post("/api/v1/partners", json=body)
        assert (answer.status_code, answer.json()["field"]) == (code, field), answer.text
    unknown = api.put("/api/v1/partners/SUP-TEA/items", json={"items": [{"sku": "NOPE"}]})
    assert (unknown.status_code, unknown.json()["field"]) == (404, "items.0.sku")
    not_a_supplier = api.put("/api/v1/partners/CUS-CAFE/items", json={"items": [ITEM]})
    assert not_a_supplier.status_code == 422
    staff = {"Authorization": f"Bearer {token_for(seeded, 'staff@WH1', name='sam')}"}
    assert api.get("/api/v1/partners", headers=staff).status_code == 200
    assert api.post("/api/v1/partners", json=cafe, headers=staff).status_code == 403
    assert api.delete("/api/v1/partners/CUS-CAFE").status_code == 204


def test_orders_name_their_partner(api: TestClient) -> None:
    order = {"ref": "PO-P1", "site": "WH1", "partner": "SUP-TEA",
             "lines": [{"sku": "TEA-GRN", "qty": "12", "unit_cost_minor": 210}]}  # fmt: skip
    made = ok(api.post("/api/v1/purchase-orders", json=order))
    assert (made["supplier"], made["partner"], made["currency"]) == (
        "Tea Traders Ltd",
        "SUP-TEA",
        "EUR",
    )
    ok(api.post("/api/v1/partners", json={"code": "CUS-CAFE", "name": "Cafe", "customer": True}))
    wrong = api.post(
        "/api/v1/purchase-orders", json={**order, "ref": "PO-P2", "partner": "CUS-CAFE"}
    )
    assert (wrong.status_code, wrong.json()["field"]) == (422, "partner")
    sale = {
        "ref": "SO-P1",
        "site": "WH1",
        "partner": "CUS-CAFE",
        "lines": [{"sku": "TEA-GRN", "qty": "1"}],
    }
    assert ok(api.post("/api/v1/sales-orders", json=sale))["customer"] == "Cafe"
    neither = api.post("/api/v1/purchase-orders", json={"ref": "PO-P3", "site": "WH1",
                                                        "lines": order["lines"]})  # fmt: skip
    assert neither.status_code == 422
    in_use = api.delete("/api/v1/partners/SUP-TEA")
    assert (in_use.status_code, in_use.json()["field"]) == (409, "code")


def test_the_reorder_proposal_becomes_draft_orders_per_supplier(
    seeded: Service, api: TestClient
) -> None:
    """Green tea is below its reorder point (30) with none at WH1: 30 to order, 36 in twelves
    (at least 24), from its preferred supplier in its 3 days; other products no supplier sells
    are listed as unsourced."""
    rows = ok(api.get("/api/v1/reports/reorder", params={"site": "WH1"}), 200)["items"]
    tea = next(r for r in rows if r["sku"] == "TEA-GRN")
    assert (tea["supplier_code"], tea["lead_days"], tea["suggested_qty"]) == ("SUP-TEA", "3", "36")
    made = ok(api.post("/api/v1/purchase-orders/drafts", json={"site": "WH1"}))
    (draft,) = made["drafts"]
    assert (draft["status"], draft["partner"]) == ("draft", "SUP-TEA")
    assert [(x["sku"], x["qty"], x["unit_cost_minor"]) for x in draft["lines"]] == [
        ("TEA-GRN", "36", 215)
    ]
    assert "TEA-GRN" not in made["unsourced"]
    assert "COF-250" in made["unsourced"]
    again = ok(api.post("/api/v1/purchase-orders/drafts", json={"site": "WH1"}))
    assert again["drafts"] == []  # on order already: not proposed twice
    Floor(seeded).receive(TEA, 6)  # a draft takes no receipts
    assert (
        ok(api.get(f"/api/v1/purchase-orders/{draft['ref']}"), 200)["lines"][0]["received"] == "0"
    )
    confirmed = ok(api.post(f"/api/v1/purchase-orders/{draft['ref']}/confirm"), 200)
    assert confirmed["status"] == "open"
    Floor(seeded).receive(TEA, 12)
    assert (
        ok(api.get(f"/api/v1/purchase-orders/{draft['ref']}"), 200)["lines"][0]["received"] == "12"
    )
    values = ok(api.get("/api/v1/reports/valuation", params={"site": "WH1"}), 200)["items"]
    tea_value = next(v for v in values if v["sku"] == "TEA-GRN")
    assert tea_value["value_minor"] == 12 * 215  # the six before it had no cost known
    twice = api.post(f"/api/v1/purchase-orders/{draft['ref']}/confirm")
    assert twice.status_code == 409
