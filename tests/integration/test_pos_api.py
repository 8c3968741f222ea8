"""Sales, sessions, receipts and refunds through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok, open_store, sale
from warehouse.app import create_app
from warehouse.bootstrap import Service


@pytest.fixture
def client(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def stock_at(client: TestClient, sku: str, location: str = "ST1-REG1") -> str:
    rows = client.get(f"/api/v1/stock/{sku}").json()["locations"]
    return next((r["on_hand"] for r in rows if r["location"] == location), "0")


def test_a_sale_is_priced_paid_numbered_and_moves_stock(client: TestClient) -> None:
    session = open_store(client)
    body = sale(
        "S-1",
        [{"sku": "TEA-GRN", "qty": "2"}, {"code": "5901230001070"}],  # WTR-6 by its GTIN
        [
            {"kind": "card", "amount_minor": 500, "reference": "AUTH-1"},
            {"kind": "cash", "amount_minor": 1000},
        ],
    )
    done = ok(client.post("/api/v1/pos/sales", json=body))
    receipt = done["receipt"]
    # 2 x 4.99 + 2.99 = 12.97; card 5.00, cash due 7.97 -> 7.95 (0.05 step), change 2.05
    assert (done["receipt_no"], receipt["total_minor"], receipt["change_minor"]) == (1, 1297, 205)
    assert receipt["rounding_minor"] == -2
    assert [(t["kind"], t["amount_minor"]) for t in receipt["tenders"]] == [
        ("card", 500),
        ("cash", 795),
    ]
    # tax inclusive: 7% of 998 -> 65, 20% of 299 -> 50
    assert [(t["rate"], t["base_minor"], t["tax_minor"]) for t in receipt["taxes"]] == [
        ("7", 933, 65),
        ("20", 249, 50),
    ]
    assert stock_at(client, "TEA-GRN") == "18"
    again = client.post("/api/v1/pos/sales", json=body)
    assert again.status_code == 200
    assert again.json()["replay"] is True
    assert stock_at(client, "TEA-GRN") == "18"
    other = client.post("/api/v1/pos/sales", json={**body, "lines": [{"sku": "TEA-BLK"}]})
    assert other.status_code == 409
    second = ok(
        client.post(
            "/api/v1/pos/sales",
            json=sale("S-2", [{"sku": "TEA-BLK"}], [{"kind": "cash", "amount_minor": 400}]),
        )
    )
    assert second["receipt_no"] == 2
    text = client.get("/api/v1/pos/sales/S-1", params={"format": "text"}).text
    assert "TOTAL EUR" in text
    assert "12.97" in text
    assert max(len(x) for x in text.splitlines()) <= 42
    x = ok(client.get(f"/api/v1/pos/sessions/{session}"), 200)
    assert (x["kind"], x["sales"], x["sales_minor"]) == ("X", 2, 1297 + 349)
    assert x["tenders"] == {"card": 500, "cash": 795 + 350}
    assert x["cash_expected_minor"] == 10000 + 795 + 350


def test_overselling_is_refused_naming_the_line_and_uses_no_receipt_number(
    client: TestClient,
) -> None:
    open_store(client, stock={"TEA-GRN": 1})
    refused = client.post(
        "/api/v1/pos/sales",
        json=sale(
            "S-9",
            [{"sku": "TEA-GRN"}, {"sku": "TEA-GRN", "qty": "1"}],
            [{"kind": "cash", "amount_minor": 2000}],
        ),
    )
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["field"] == "lines[0].qty"
    assert "line 1" in problem["detail"]
    assert "TEA-GRN" in problem["detail"]
    done = ok(
        client.post(
            "/api/v1/pos/sales",
            json=sale("S-10", [{"sku": "TEA-GRN"}], [{"kind": "cash", "amount_minor": 500}]),
        )
    )
    assert done["receipt_no"] == 1
    short = client.post(
        "/api/v1/pos/sales",
        json=sale("S-11", [{"sku": "WTR-6"}], [{"kind": "cash", "amount_minor": 100}]),
    )
    assert short.status_code == 422
    assert short.json()["field"] == "tenders"
    unpriced = client.post(
        "/api/v1/pos/sales",
        json=sale("S-12", [{"sku": "COF-250"}], [{"kind": "cash", "amount_minor": 100}]),
    )
    assert unpriced.status_code == 422
    assert unpriced.json()["field"] == "lines[0]"


def test_a_price_override_needs_a_manager(client: TestClient, seeded: Service) -> None:
    open_store(client)
    body = sale(
        "S-3",
        [{"sku": "TEA-GRN", "unit_price_override_minor": 100}],
        [{"kind": "cash", "amount_minor": 100}],
    )
    cashier = {"Authorization": f"Bearer {token_for(seeded, 'cashier@ST1', name='cashier-1')}"}
    refused = client.post("/api/v1/pos/sales", json=body, headers=cashier)
    assert refused.status_code == 403
    manager = {"Authorization": f"Bearer {token_for(seeded, 'manager@ST1', name='boss')}"}
    done = ok(client.post("/api/v1/pos/sales", json=body, headers=manager))
    assert done["receipt"]["total_minor"] == 100
    assert done["receipt"]["lines"][0]["overridden"]


def test_a_return_refunds_the_original_tender_and_restocks_never_beyond_what_was_sold(
    client: TestClient, seeded: Service
) -> None:
    session = open_store(client)
    ok(
        client.post(
            "/api/v1/pos/sales",
            json=sale(
                "S-1",
                [{"sku": "TEA-GRN", "qty": "3"}, {"sku": "WTR-6"}],
                [{"kind": "card", "amount_minor": 1796, "reference": "AUTH-9"}],
            ),
        )
    )
    assert stock_at(client, "TEA-GRN") == "17"
    back = ok(
        client.post(
            "/api/v1/pos/refunds",
            json={
                "refund_id": "R-1",
                "register": "ST1-REG1",
                "sale_id": "S-1",
                "lines": [{"line_no": 1, "qty": "2"}],
            },
        )
    )
    assert back["total_minor"] == 998  # two of three at 14.97
    assert back["tenders"] == [{"kind": "card", "amount_minor": 998, "reference": "AUTH-9"}]
    assert back["receipt_no"] == 2  # refunds share the register's sequence
    assert stock_at(client, "TEA-GRN") == "19"
    retried = client.post(
        "/api/v1/pos/refunds",
        json={
            "refund_id": "R-1",
            "register": "ST1-REG1",
            "sale_id": "S-1",
            "lines": [{"line_no": 1, "qty": "2"}],
        },
    )
    assert retried.status_code == 200
    assert {**retried.json(), "replay": False} == back  # the first answer, nothing refunded again
    assert stock_at(client, "TEA-GRN") == "19"
    beyond = client.post(
        "/api/v1/pos/refunds",
        json={
            "refund_id": "R-2",
            "register": "ST1-REG1",
            "sale_id": "S-1",
            "lines": [{"line_no": 1, "qty": "2"}],
        },
    )
    assert beyond.status_code == 422
    assert beyond.json()["field"] == "lines[0].qty"
    assert "returned already" in beyond.json()["detail"]
    scrapped = ok(
        client.post(
            "/api/v1/pos/refunds",
            json={
                "refund_id": "R-3",
                "register": "ST1-REG1",
                "sale_id": "S-1",
                "lines": [{"line_no": 2, "qty": "1", "disposition": "write_off"}],
            },
        )
    )
    assert scrapped["total_minor"] == 299
    assert stock_at(client, "WTR-6") == "19"  # sold one of 20, written off when it came back
    cashier = {"Authorization": f"Bearer {token_for(seeded, 'cashier@ST1', name='cashier-2')}"}
    no_receipt = {
        "refund_id": "R-4",
        "register": "ST1-REG1",
        "lines": [{"sku": "TEA-BLK", "qty": "1"}],
    }
    assert client.post("/api/v1/pos/refunds", json=no_receipt, headers=cashier).status_code == 403
    assert ok(client.post("/api/v1/pos/refunds", json=no_receipt))["total_minor"] == 349
    z = ok(client.post(f"/api/v1/pos/sessions/{session}/close", json={"counted_minor": 9651}), 200)
    assert (z["kind"], z["sales"], z["refunds"], z["refunds_minor"]) == ("Z", 1, 3, 998 + 299 + 349)
    assert z["tenders"] == {"card": 1796 - 998 - 299, "cash": -349}
    assert (z["cash_expected_minor"], z["cash_difference_minor"]) == (10000 - 349, 0)
    assert ok(client.get(f"/api/v1/pos/sessions/{session}"), 200) == z


def test_a_new_price_list_reaches_the_cached_price_book_at_once(seeded: Service) -> None:
    """With the catalog cache on (as it runs in production), a price change bumps the catalog
    version and the next sale is priced by the new list."""
    from tests.conftest import make_settings
    from warehouse.bootstrap import bootstrap

    cached = bootstrap(make_settings(seeded.settings.database_url), catalog_ttl=300)
    try:
        client = TestClient(create_app(service=cached), headers=admin_headers(cached))
        open_store(client)
        card = [{"kind": "card", "amount_minor": 499}]
        first = ok(client.post("/api/v1/pos/sales", json=sale("S-1", [{"sku": "TEA-GRN"}], card)))
        assert first["receipt"]["total_minor"] == 499
        week = {
            "site": "ST1",
            "name": "promotion week",
            "currency": "EUR",
            "cash_step_minor": 5,
            "priority": 10,
            "prices": [{"sku": "TEA-GRN", "unit_price_minor": 399, "tax_category": "reduced"}],
        }
        ok(client.post("/api/v1/pos/price-lists", json=week))
        card = [{"kind": "card", "amount_minor": 399}]
        second = ok(client.post("/api/v1/pos/sales", json=sale("S-2", [{"sku": "TEA-GRN"}], card)))
        assert second["receipt"]["total_minor"] == 399
    finally:
        cached.close()


def test_a_tax_rate_is_a_percentage_named_for_it(client: TestClient) -> None:
    body = {"site": "ST1", "category": "luxury", "valid_from": "2020-01-01"}
    bare = client.post("/api/v1/pos/tax-rates", json={**body, "rate": "0.20"})
    assert bare.status_code == 422
    assert "rate_percent" in bare.text
    assert "20 for 20 %" in bare.text
    over = client.post("/api/v1/pos/tax-rates", json={**body, "rate_percent": "120"})
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "rate_percent"
    assert (
        client.post("/api/v1/pos/tax-rates", json={**body, "rate_percent": "20"}).status_code == 201
    )


def test_each_family_of_rules_is_its_own_problem_type(client: TestClient) -> None:
    session = open_store(client)
    end = client.post(f"/api/v1/pos/sessions/{session}/close", json={"counted_minor": 5000})
    assert end.status_code == 200, end.text
    cash = [{"kind": "cash", "amount_minor": 1000}]
    closed = client.post("/api/v1/pos/sales", json=sale("S-X", [{"sku": "TEA-GRN"}], cash))
    assert closed.status_code == 422
    assert closed.json()["type"].endswith("/sale-rule")
    assert closed.json()["title"] == "The request breaks a point-of-sale rule"
    move = {"kind": "transfer", "sku": "TEA-GRN", "qty": "1", "to_location": "CUSTOMER"}
    refused = client.post("/api/v1/movements", json={**move, "from_location": "ST1-REG1"})
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/stock-rule")
    assert refused.json()["title"] == "The request breaks a stock rule"
    report = client.get("/api/v1/reports/sales", params={"group_by": "weather"})
    assert report.status_code == 422
    assert report.json()["type"] != closed.json()["type"] != refused.json()["type"]
