"""Valuation on SQLite and PostgreSQL, through the real paths: purchase orders with unit costs
received by dock scans (the ingest), a transfer between sites through transit, a write-off, a
shipment to a customer, and point-of-sale sales and refunds; for each costing method, against
hand-worked figures, with the roll-forward adding up; and the valuation identity over a
generated year of movements."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.helpers import admin_headers
from tests.integration.pos_fixtures import ok, open_store, sale
from tests.integration.test_orders import TEA, Floor
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.valuation.adapters.replay import Replay

#: Per method (and standard cost): value leaving by transfer (12), write-off (1) and
#: shipment (3), the closing value of the 4 left, and the purchase price variance.
#: Receipts: 10 at 1.00 (PO-1), then 10 at 1.20 (PO-2).
CASES = {
    "fifo": (None, 10 * 100 + 2 * 120, 120, 3 * 120, 4 * 120, 0),
    "average": (None, 12 * 110, 110, 3 * 110, 4 * 110, 0),
    "standard": (105, 12 * 105, 105, 3 * 105, 4 * 105, (100 - 105) * 10 + (120 - 105) * 10),
}


@pytest.fixture
def api(seeded: Service) -> TestClient:
    return TestClient(create_app(service=seeded), headers=admin_headers(seeded))


def set_costing(api: TestClient, sku: str, costing: str, standard: int | None) -> None:
    product = ok(api.get(f"/api/v1/products/{sku}"), 200)
    body = {k: v for k, v in product.items() if k != "sku"}
    body.update(costing=costing, standard_cost_minor=standard)
    ok(api.put(f"/api/v1/products/{sku}", json=body), 200)


def transactions(service: Service) -> Iterator[Connection]:
    while True:
        with service.engine.begin() as conn:
            yield conn


def report(api: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    return list(ok(api.get(f"/api/v1/reports/{path}", params=params), 200)["items"])


@pytest.mark.parametrize("method", list(CASES))
def test_each_method_values_receipts_transfers_writeoffs_and_sales(
    seeded: Service, api: TestClient, method: str
) -> None:
    standard, transferred, written_off, shipped, closing, variance = CASES[method]
    start = datetime.now(UTC) - timedelta(minutes=1)
    set_costing(api, "TEA-GRN", method, standard)
    for ref, cost in (("PO-1", 100), ("PO-2", 120)):
        line = {"sku": "TEA-GRN", "qty": "10", "unit_cost_minor": cost}
        order = {"ref": ref, "site": "WH1", "supplier": "Tea Traders", "lines": [line]}
        assert ok(api.post("/api/v1/purchase-orders", json=order))["lines"][0]["unit_cost_minor"]
    floor = Floor(seeded)
    floor.receive(TEA, 10, "PO-1")
    floor.receive(TEA, 10, "PO-2")
    (wh1,) = report(api, "valuation", site="WH1")
    received = 20 * standard if standard else 10 * 100 + 10 * 120
    assert (wh1["sku"], wh1["qty"], wh1["value_minor"]) == ("TEA-GRN", "20", received)
    transfer = {"ref": "TO-1", "from_location": "WH1-DOCK-1", "to_location": "ST1-BACK",
                "lines": [{"sku": "TEA-GRN", "qty": "12"}]}  # fmt: skip
    ok(api.post("/api/v1/transfers", json=transfer))
    ok(api.post("/api/v1/transfers/TO-1/ship"), 200)
    in_transit = report(api, "valuation", group_by="site")
    assert {r["site"]: r["value_minor"] for r in in_transit}["WH1"] == wh1[
        "value_minor"
    ] - transferred
    assert "ST1" not in {r["site"] for r in in_transit}  # on the road: in neither site
    ok(api.post("/api/v1/transfers/TO-1/receive", json={}), 200)
    loss = {"kind": "adjust", "sku": "TEA-GRN", "qty": "1", "from_location": "WH1-DOCK-1"}
    ok(api.post("/api/v1/movements", json=loss))
    sent = floor.send(
        "picker-1", kind="ship", code=TEA, qty=3, from_location="WH1-DOCK-1", to_location=None
    )
    assert sent.applied == 1, sent
    by_site = {r["site"]: r for r in report(api, "valuation", group_by="site")}
    assert (by_site["WH1"]["qty"], by_site["WH1"]["value_minor"]) == ("4", closing)
    assert (by_site["ST1"]["qty"], by_site["ST1"]["value_minor"]) == ("12", transferred)
    (roll,) = report(api, "valuation/rollforward", site="WH1", since=start.isoformat())
    assert roll["opening_minor"] == 0
    assert roll["transfers_out_minor"] == transferred
    assert (roll["writeoffs_minor"], roll["cogs_minor"]) == (written_off, shipped)
    assert roll["variance_minor"] == variance
    assert roll["closing_minor"] == closing
    assert roll["closing_minor"] == (
        roll["opening_minor"] + roll["receipts_minor"] + roll["transfers_in_minor"]
        - roll["transfers_out_minor"] - roll["cogs_minor"] - roll["writeoffs_minor"]
        - roll["adjustments_minor"] + roll["revaluations_minor"]
    )  # fmt: skip
    earlier = report(api, "valuation", site="WH1", at=start.isoformat())
    assert earlier == []  # as of before it all: nothing
    live = report(api, "valuation/rollforward", since=start.isoformat(), group_by="product")
    replayed = Replay(page=2)  # `warehouse valuation rebuild`, a few movements a transaction
    with seeded.engine.begin() as conn:
        assert replayed.clear(conn) >= 6
    assert sum(replayed.pages(transactions(seeded), datetime.now(UTC))) >= 6
    again = report(api, "valuation/rollforward", since=start.isoformat(), group_by="product")
    assert again == live


def test_point_of_sale_margins_use_what_the_goods_cost_and_refunds_restore_it(
    seeded: Service, api: TestClient
) -> None:
    """Stock received without an order comes in at the standard cost (2.50); a sale's margin
    uses what its units cost, not the price book's 3.00; a refund restores that cost."""
    set_costing(api, "TEA-GRN", "fifo", 250)
    open_store(api, stock={"TEA-GRN": 20})
    body = sale("S-1", [{"sku": "TEA-GRN", "qty": "3"}], [{"kind": "card", "amount_minor": 1497}])
    ok(api.post("/api/v1/pos/sales", json=body))
    refund = {"refund_id": "R-1", "register": "ST1-REG1", "sale_id": "S-1"}
    ok(api.post("/api/v1/pos/refunds", json={**refund, "lines": [{"line_no": 1, "qty": "2"}]}))
    (tea,) = report(api, "sales", site="ST1", group_by="product")
    assert (tea["cost_minor"], tea["margin_minor"]) == (750, 1497 - 750)
    (st1,) = report(api, "valuation", site="ST1")
    assert (st1["qty"], st1["value_minor"]) == ("19", 20 * 250 - 750 + 500)
    (roll,) = report(api, "valuation/rollforward", site="ST1", group_by="category")
    assert (roll["receipts_minor"], roll["cogs_minor"]) == (5000, 250)  # net of the return


def test_a_generated_year_of_movements_adds_up(seeded: Service, api: TestClient) -> None:
    """opening + receipts - COGS - write-offs +/- transfers = closing, for any period cut out
    of a year of random receipts at random costs, sales, losses, finds and transfers."""
    rng = random.Random(2026)
    day0 = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(60):
        if n % 10 == 0:  # receipts without an order come in at the standard cost of the day
            set_costing(api, "PST-500", "average", rng.randint(80, 160))
        when = (day0 + timedelta(days=n * 6)).isoformat()
        kind = rng.choice(["receive", "receive", "adjust", "transfer"])
        body: dict[str, Any] = {"kind": kind, "sku": "PST-500", "qty": str(rng.randint(1, 9))}
        if kind == "receive":
            body["to_location"] = "WH1-DOCK-1"
        elif kind == "adjust":
            body["from_location" if rng.random() < 0.7 else "to_location"] = "WH1-DOCK-1"
        else:
            body.update(from_location="WH1-DOCK-1", to_location="ST1-BACK")
        api.post("/api/v1/movements", json={**body, "occurred_at": when})
    for cut in ("2025-03-01", "2025-07-15", "2025-11-30"):
        for roll in report(api, "valuation/rollforward", since=f"{cut}T00:00:00Z",
                           until="2026-01-01T00:00:00Z"):  # fmt: skip
            assert roll["closing_minor"] == (
                roll["opening_minor"] + roll["receipts_minor"] + roll["transfers_in_minor"]
                - roll["transfers_out_minor"] - roll["cogs_minor"] - roll["writeoffs_minor"]
                - roll["adjustments_minor"] + roll["revaluations_minor"]
            ), roll  # fmt: skip
        period = {"since": f"{cut}T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
        rolls = report(api, "valuation/rollforward", **period)
        assert any(r["receipts_minor"] for r in rolls)
        closing = {r["site"]: r["closing_minor"] for r in rolls}
        as_of = {r["site"]: r["value_minor"] for r in report(
            api, "valuation", group_by="site", at="2025-12-31T23:59:59Z")}  # fmt: skip
        assert {k: v for k, v in closing.items() if v} == as_of


def test_a_new_standard_cost_restates_the_stock_on_hand(seeded: Service, api: TestClient) -> None:
    """Ten at a standard of 1.00; the standard goes to 1.20: +2.00 of revaluation, the stock is
    worth 12.00, and the roll-forward still adds up. A FIFO product turned standard is restated
    the same way."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    set_costing(api, "TEA-GRN", "standard", 100)
    receipt = {"kind": "receive", "qty": "10", "to_location": "WH1-DOCK-1"}
    ok(api.post("/api/v1/movements", json={**receipt, "sku": "TEA-GRN"}))
    ok(api.post("/api/v1/movements", json={**receipt, "sku": "PST-500"}))  # no cost known: 0
    set_costing(api, "TEA-GRN", "standard", 120)
    set_costing(api, "PST-500", "standard", 90)
    values = {r["sku"]: r["value_minor"] for r in report(api, "valuation", site="WH1")}
    assert values == {"TEA-GRN": 1200, "PST-500": 900}
    roll = {r["sku"]: r for r in report(api, "valuation/rollforward", site="WH1",
                                         since=start.isoformat(), group_by="product")}  # fmt: skip
    assert roll["TEA-GRN"]["revaluations_minor"] == 200
    assert roll["PST-500"]["revaluations_minor"] == 900
    for row in roll.values():
        assert row["closing_minor"] == row["receipts_minor"] + row["revaluations_minor"]
    set_costing(api, "TEA-GRN", "standard", 120)  # unchanged: nothing restated
    again = report(api, "valuation/rollforward", site="WH1", since=start.isoformat())
    assert again[0]["revaluations_minor"] == 200 + 900


def test_a_value_beyond_what_the_books_hold_is_refused_by_name(api: TestClient) -> None:
    set_costing(api, "PST-500", "fifo", 10**12)
    huge = {"kind": "receive", "sku": "PST-500", "qty": "10000000", "to_location": "WH1-DOCK-1"}
    refused = api.post("/api/v1/movements", json=huge)
    assert (refused.status_code, refused.json()["field"]) == (422, "qty")
    assert "beyond what the books hold" in refused.json()["detail"]
    ok(api.post("/api/v1/movements", json={**huge, "qty": "10"}))  # 10 x 10^12: held


def test_the_groupings_agree_site_by_site(seeded: Service, api: TestClient) -> None:
    """Three products at two sites, two of them in one category and one in none: the rows per
    product add up to the rows per category, and those to the rows per site, in value and
    quantity, as of now and over a period."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    for sku, category, cost in (
        ("PST-500", "dry", 90),
        ("RIC-1K", "dry", 250),
        ("SUG-1K", None, 80),
    ):
        set_costing(api, sku, "standard", cost)
        product = ok(api.get(f"/api/v1/products/{sku}"), 200)
        body = {k: v for k, v in product.items() if k != "sku"}
        ok(api.put(f"/api/v1/products/{sku}", json={**body, "category": category}), 200)
        for to, qty in (("WH1-DOCK-1", 7), ("ST1-BACK", 3)):
            receipt = {"kind": "receive", "sku": sku, "qty": str(qty), "to_location": to}
            ok(api.post("/api/v1/movements", json=receipt))
    for path, params, field in (
        ("valuation", {}, "value_minor"),
        ("valuation/rollforward", {"since": start.isoformat()}, "closing_minor"),
    ):
        rows = {g: report(api, path, group_by=g, **params) for g in ("site", "category", "product")}
        assert len(rows["product"]) == 6
        by_category: dict[tuple[str, str | None], int] = {}
        for r in rows["product"]:
            key = (r["site"], r["category"])
            by_category[key] = by_category.get(key, 0) + r[field]
        assert by_category == {(r["site"], r["category"]): r[field] for r in rows["category"]}
        by_site = {r["site"]: r[field] for r in rows["site"]}
        assert by_site == {"WH1": 7 * 420, "ST1": 3 * 420}
        assert rows["product"][0]["name"]
