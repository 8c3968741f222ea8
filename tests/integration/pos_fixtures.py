"""A store for the point-of-sale tests: site ST1 with register ST1-REG1, tax rates, a price list,
stock at the register and an open session."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PRICES = [
    {"sku": "TEA-GRN", "unit_price_minor": 499, "tax_category": "reduced", "unit_cost_minor": 300},
    {"sku": "TEA-BLK", "unit_price_minor": 349, "tax_category": "reduced", "unit_cost_minor": 200},
    {"sku": "PST-500", "unit_price_minor": 189, "tax_category": "standard"},
    {"sku": "WTR-6", "unit_price_minor": 299, "tax_category": "standard", "unit_cost_minor": 150},
    {"sku": "RIC-1K", "unit_price_minor": 1000, "tax_category": "standard"},
]


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def open_store(
    client: TestClient, *, stock: dict[str, int] | None = None, register: str = "ST1-REG1"
) -> int:
    """Set the store up; return the open session's id."""
    for loc in (
        {"code": "ST1", "name": "Store 1", "kind": "site"},
        {"code": register, "name": "Register", "kind": "register", "parent_code": "ST1"},
    ):
        if client.get(f"/api/v1/locations/{loc['code']}").status_code == 404:
            ok(client.post("/api/v1/locations", json=loc))
    for category, rate in (("standard", "20"), ("reduced", "7")):
        ok(
            client.post(
                "/api/v1/pos/tax-rates",
                json={
                    "site": "ST1",
                    "category": category,
                    "rate_percent": rate,
                    "valid_from": "2020-01-01",
                },
            )
        )
    ok(
        client.post(
            "/api/v1/pos/price-lists",
            json={
                "site": "ST1",
                "name": "everyday",
                "currency": "EUR",
                "cash_step_minor": 5,
                "prices": PRICES,
            },
        )
    )
    ok(client.post("/api/v1/pos/registers", json={"location": register}))
    for sku, qty in (stock or {"TEA-GRN": 20, "TEA-BLK": 20, "WTR-6": 20}).items():
        ok(
            client.post(
                "/api/v1/movements",
                json={"kind": "receive", "sku": sku, "qty": str(qty), "to_location": register},
            )
        )
    session = ok(
        client.post(f"/api/v1/pos/registers/{register}/sessions", json={"float_minor": 10000})
    )
    return int(session["session_id"])


def sale(
    sale_id: str, lines: list[dict[str, Any]], tenders: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {"sale_id": sale_id, "register": "ST1-REG1", "lines": lines, "tenders": tenders, **extra}
