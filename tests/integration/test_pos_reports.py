"""Point-of-sale reports: sales by day, product, register and cashier, top sellers, margin
where the cost is known, tax per rate net of refunds, and their CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok, open_store, sale
from warehouse.app import create_app
from warehouse.bootstrap import Service


def test_sales_margin_and_tax_reports_add_up_to_the_sales(seeded: Service) -> None:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    open_store(client, stock={"TEA-GRN": 20, "WTR-6": 20, "PST-500": 20})
    cashier = {"Authorization": f"Bearer {token_for(seeded, 'cashier@ST1', name='ann')}"}
    baskets = [
        ("S-1", [{"sku": "TEA-GRN", "qty": "3"}], 1497, cashier),  # 3 x 4.99
        ("S-2", [{"sku": "TEA-GRN"}, {"sku": "WTR-6", "qty": "2"}], 1097, cashier),
        ("S-3", [{"sku": "PST-500", "qty": "2"}], 378, {}),  # no cost known
    ]
    for sale_id, lines, total, headers in baskets:
        body = sale(sale_id, lines, [{"kind": "card", "amount_minor": total}])
        done = ok(client.post("/api/v1/pos/sales", json=body, headers=headers))
        assert done["receipt"]["total_minor"] == total
    refund = {"refund_id": "R-1", "register": "ST1-REG1", "sale_id": "S-1"}
    ok(client.post("/api/v1/pos/refunds", json={**refund, "lines": [{"line_no": 1, "qty": "1"}]}))

    def report(path: str, **params: str) -> list[dict[str, object]]:
        return ok(client.get(f"/api/v1/reports/{path}", params={"site": "ST1", **params}), 200)[
            "items"
        ]

    by_product = {r["product"]: r for r in report("sales", group_by="product")}
    tea = by_product["TEA-GRN"]
    assert (tea["sales"], tea["qty"], tea["net_minor"], tea["returned_qty"]) == (2, "4", 1996, "1")
    assert (tea["cost_minor"], tea["margin_minor"]) == (1200, 1996 - 1200)
    assert (by_product["PST-500"]["cost_minor"], by_product["PST-500"]["margin_minor"]) == (
        None,
        None,
    )
    (register,) = report("sales", group_by="register")
    assert (register["register"], register["sales"], register["net_minor"]) == (
        "ST1-REG1",
        3,
        1497 + 1097 + 378,
    )
    cashiers = {r["cashier"]: r["sales"] for r in report("sales", group_by="cashier")}
    assert cashiers == {"user:ann": 2, "user:test-admin": 1}  # who was signed in
    (today,) = report("sales", group_by="day")
    assert today["day"] == datetime.now(UTC).date().isoformat()
    assert [r["product"] for r in report("top-sellers", limit="2")] == ["TEA-GRN", "PST-500"]
    taxes = {r["rate"]: r for r in report("tax")}
    # 7 %: sold 1996 (tax 131), one tea of 4.99 refunded (tax 33); 20 %: 598 + 378 (tax 100 + 63)
    assert taxes["7"]["tax_minor"] == 131 - 33
    assert taxes["20"]["tax_minor"] == 100 + 63
    assert sum(int(t["base_minor"]) + int(t["tax_minor"]) for t in taxes.values()) == (
        1497 + 1097 + 378 - 499
    )
    answer = client.get(
        "/api/v1/reports/sales", params={"site": "ST1", "group_by": "product", "format": "csv"}
    )
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["product"]: r["net_minor"] for r in rows}["TEA-GRN"] == "1996"
    assert client.get("/api/v1/reports/sales", headers=cashier).status_code == 403
    wrong = client.get("/api/v1/reports/sales", params={"site": "ST1", "group_by": "week"})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "group_by")
