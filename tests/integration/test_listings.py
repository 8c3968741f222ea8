"""Every record with an id can be listed: counts, transfers, returns, registers, cashier sessions,
POS sales and locations, each with filters, keyset pages and the sites one may see."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok, open_store, sale
from tests.integration.test_security import shipped_and_returned
from warehouse.app import create_app
from warehouse.bootstrap import Service

API = "/api/v1"
CASH = [{"kind": "cash", "amount_minor": 5000}]


def every_page(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """All items of a listing walked one item a page, checking each page holds one."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = ok(client.get(path, params={**params, "limit": 1, "cursor": cursor}), 200)
        assert len(page["items"]) <= 1
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} did not end")


def as_(service: Service, grant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(service, grant, name=grant)}"}


@pytest.fixture
def client(seeded: Service) -> Any:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as c:
        yield c


def test_locations_honour_limit_and_page_in_tree_order(client: TestClient) -> None:
    first = ok(client.get(f"{API}/locations", params={"limit": 3}), 200)
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    walked = every_page(client, f"{API}/locations")
    everything = ok(client.get(f"{API}/locations", params={"limit": 500}), 200)["items"]
    assert [x["code"] for x in walked] == [x["code"] for x in everything]
    assert walked[:3] == first["items"]
    assert len(walked) == len({x["code"] for x in walked}) > 3
    under = every_page(client, f"{API}/locations", under="WH1-A")
    assert [x["code"] for x in under] == ["WH1-A", *(f"WH1-A-0{n}" for n in range(1, 7))]
    bad = client.get(f"{API}/locations", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert "cursor" in bad.text


def test_counts_by_site_status_product_and_date(seeded: Service, client: TestClient) -> None:
    receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": "3", "to_location": "WH1-A-01"}
    ok(client.post(f"{API}/movements", json=receipt))
    for ref, location in (("CNT-1", "WH1-A"), ("CNT-2", "WH1-B"), ("CNT-3", "ST1-BACK")):
        ok(client.post(f"{API}/counts", json={"ref": ref, "location": location}))
    entry = {"sku": "TEA-GRN", "location": "WH1-A-01", "qty": "3"}
    ok(client.post(f"{API}/counts/CNT-1/entries", json={"entries": [entry]}), 200)
    ok(client.post(f"{API}/counts/CNT-1/approve"), 200)

    listed = every_page(client, f"{API}/counts")
    assert [x["ref"] for x in listed] == ["CNT-3", "CNT-2", "CNT-1"]  # newest first
    assert listed[2]["status"] == "approved"
    assert listed[2]["lines"] == listed[2]["counted"] == 1
    assert [x["ref"] for x in every_page(client, f"{API}/counts", status="open")] == [
        "CNT-3",
        "CNT-2",
    ]
    assert [x["ref"] for x in every_page(client, f"{API}/counts", sku="TEA-GRN")] == ["CNT-1"]
    assert [x["ref"] for x in every_page(client, f"{API}/counts", site="ST1")] == ["CNT-3"]
    created = listed[0]["created_at"]
    assert every_page(client, f"{API}/counts", since=created)[0]["ref"] == "CNT-3"
    assert every_page(client, f"{API}/counts", until="2000-01-01T00:00:00Z") == []
    staff = as_(seeded, "staff@WH1")
    mine = ok(client.get(f"{API}/counts", headers=staff), 200)["items"]
    assert {x["site"] for x in mine} == {"WH1"}
    assert client.get(f"{API}/counts", params={"site": "ST1"}, headers=staff).status_code == 403
    naive = client.get(f"{API}/counts", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422  # a time without its zone is refused, not guessed


def test_transfers_from_or_to_a_site(seeded: Service, client: TestClient) -> None:
    receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": "5", "to_location": "WH1-A-01"}
    ok(client.post(f"{API}/movements", json=receipt))
    line = [{"sku": "TEA-GRN", "qty": "1"}]
    for ref, to in (("TO-1", "WH1-B-01"), ("TO-2", "ST1-BACK")):
        body = {"ref": ref, "from_location": "WH1-A-01", "to_location": to, "lines": line}
        ok(client.post(f"{API}/transfers", json=body))
    ok(client.post(f"{API}/transfers/TO-2/ship"), 200)

    listed = every_page(client, f"{API}/transfers")
    assert [x["ref"] for x in listed] == ["TO-2", "TO-1"]
    assert listed[0]["lines"][0]["shipped"] == "1"
    assert listed[0]["created_by"]
    assert [x["ref"] for x in every_page(client, f"{API}/transfers", site="ST1")] == ["TO-2"]
    assert [x["ref"] for x in every_page(client, f"{API}/transfers", status="in_transit")] == [
        "TO-2"
    ]
    assert every_page(client, f"{API}/transfers", sku="WTR-6") == []
    store = ok(client.get(f"{API}/transfers", headers=as_(seeded, "staff@ST1")), 200)
    assert [x["ref"] for x in store["items"]] == ["TO-2"]  # what comes to the store


def test_returns_by_order_and_product(seeded: Service, client: TestClient) -> None:
    shipped_and_returned(seeded, client)
    listed = every_page(client, f"{API}/returns")
    assert [x["ref"] for x in listed] == ["RMA-S1"]
    assert listed[0]["order_ref"] == "SO-R"
    assert listed[0]["lines"][0]["sku"] == "TEA-GRN"
    assert every_page(client, f"{API}/returns", order_ref="SO-NONE") == []
    assert len(every_page(client, f"{API}/returns", sku="TEA-GRN", site="WH1")) == 1
    assert every_page(client, f"{API}/returns", sku="WTR-6") == []
    assert ok(client.get(f"{API}/returns", headers=as_(seeded, "staff@ST1")), 200)["items"] == []


def test_registers_sessions_and_sales(seeded: Service, client: TestClient) -> None:
    first = open_store(client)
    ok(client.post(f"{API}/pos/sales", json=sale("S-1", [{"sku": "TEA-GRN"}], CASH)))
    ok(client.post(f"{API}/pos/sales", json=sale("S-2", [{"sku": "WTR-6", "qty": "2"}], CASH)))
    ok(client.post(f"{API}/pos/sessions/{first}/close", json={"counted_minor": 10000}), 200)
    second = ok(client.post(f"{API}/pos/registers/ST1-REG1/sessions", json={"float_minor": 0}))
    ok(client.post(f"{API}/pos/sales", json=sale("S-3", [{"sku": "TEA-GRN"}], CASH)))

    registers = every_page(client, f"{API}/pos/registers")
    assert [(x["code"], x["open_session_id"]) for x in registers] == [
        ("ST1-REG1", second["session_id"])
    ]
    sessions = every_page(client, f"{API}/pos/sessions")
    assert [(x["session_id"], x["status"]) for x in sessions] == [
        (second["session_id"], "open"),
        (first, "closed"),
    ]
    assert sessions[1]["counted_minor"] == 10000
    assert sessions[1]["register"] == "ST1-REG1"
    assert [
        x["session_id"] for x in every_page(client, f"{API}/pos/sessions", status="closed")
    ] == [first]
    sales = every_page(client, f"{API}/pos/sales")
    assert [x["sale_id"] for x in sales] == ["S-3", "S-2", "S-1"]
    assert sales[1]["lines"] == 1
    assert sales[1]["total_minor"] == 598
    assert sales[1]["source"] == "api"
    by_session = every_page(client, f"{API}/pos/sales", session_id=first)
    assert [x["sale_id"] for x in by_session] == ["S-2", "S-1"]
    assert [x["sale_id"] for x in every_page(client, f"{API}/pos/sales", sku="WTR-6")] == ["S-2"]
    assert every_page(client, f"{API}/pos/sales", source="edge") == []
    assert every_page(client, f"{API}/pos/sales", register="ST1-REG-9") == []
    assert every_page(client, f"{API}/pos/sales", site="WH1") == []
    cashier = as_(seeded, "cashier@WH1")  # another site's cashier sees none of these
    for path in ("registers", "sessions", "sales"):
        assert ok(client.get(f"{API}/pos/{path}", headers=cashier), 200)["items"] == []
        denied = client.get(f"{API}/pos/{path}", params={"site": "ST1"}, headers=cashier)
        assert denied.status_code == 403
