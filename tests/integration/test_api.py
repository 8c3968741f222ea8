"""The HTTP API on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers
from warehouse.app import create_app
from warehouse.bootstrap import Service

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def api(seeded: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as client:
        yield client


def receive(
    api: TestClient, qty: str, *, sku: str = "TEA-GRN", to: str = "WH1-A-01", **extra: str
) -> dict[str, object]:
    r = api.post(
        f"{API}/movements",
        json={"kind": "receive", "sku": sku, "qty": qty, "to_location": to, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_product_crud_and_code_rules(api: TestClient) -> None:
    body = {"sku": "NEW-1", "name": "New thing", "gtins": ["96385074"], "aliases": ["NT1"]}
    created = api.post(f"{API}/products", json=body)
    assert created.status_code == 201
    assert created.json()["gtins"] == ["00000096385074"]
    assert api.post(f"{API}/products", json=body).status_code == 409
    clash = api.post(f"{API}/products", json={**body, "sku": "NEW-2", "gtins": []})
    assert clash.status_code == 409
    assert clash.json()["field"] == "aliases"
    bad = api.post(
        f"{API}/products", json={**body, "sku": "NEW-3", "gtins": ["96385075"], "aliases": []}
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "gtins.0")
    updated = api.put(f"{API}/products/NEW-1", json={"name": "Renamed", "unit": "kg"})
    assert updated.json()["name"] == "Renamed"
    assert updated.json()["gtins"] == []
    assert api.get(f"{API}/products", params={"q": "renamed"}).json()["items"][0]["sku"] == "NEW-1"
    assert api.delete(f"{API}/products/NEW-1").status_code == 204
    assert api.get(f"{API}/products/NEW-1").status_code == 404


def test_a_product_search_takes_wildcards_as_the_characters_they_are(api: TestClient) -> None:
    def found(q: str) -> list[str]:
        answer = api.get(f"{API}/products", params={"q": q, "limit": 100})
        assert answer.status_code == 200, answer.text
        return [p["sku"] for p in answer.json()["items"]]

    assert found("%") == []
    assert found("_") == []
    assert found("\\") == []
    body = {"sku": "PROMO_1", "name": "Coffee 20% off"}
    assert api.post(f"{API}/products", json=body).status_code == 201
    assert found("%") == ["PROMO_1"]
    assert found("_") == ["PROMO_1"]
    assert found("O_1") == ["PROMO_1"]
    assert found("20% OFF") == ["PROMO_1"]  # still a fragment of the name, in any case


def test_products_page_with_a_cursor(api: TestClient) -> None:
    seen, cursor = [], None
    while True:
        page = api.get(
            f"{API}/products", params={"limit": 10, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 36
    assert seen == sorted(seen)


def test_a_product_with_history_cannot_be_deleted(api: TestClient) -> None:
    receive(api, "1")
    r = api.delete(f"{API}/products/TEA-GRN")
    assert r.status_code == 409
    assert "active to false" in r.json()["detail"]


def test_location_tree(api: TestClient) -> None:
    r = api.post(
        f"{API}/locations",
        json={"code": "WH1-C", "name": "Aisle C", "kind": "zone", "parent_code": "WH1"},
    )
    assert r.status_code == 201
    assert r.json()["path"] == ["WH1", "WH1-C"]
    orphan = api.post(
        f"{API}/locations", json={"code": "X-1", "name": "x", "kind": "bin", "parent_code": "NOPE"}
    )
    assert (orphan.status_code, orphan.json()["field"]) == (404, "parent_code")
    rootless = api.post(f"{API}/locations", json={"code": "X-2", "name": "x", "kind": "bin"})
    assert (rootless.status_code, rootless.json()["field"]) == (422, "parent_code")
    codes = [
        loc["code"]
        for loc in api.get(f"{API}/locations", params={"under": "WH1-A"}).json()["items"]
    ]
    assert codes == ["WH1-A", *[f"WH1-A-{i:02d}" for i in range(1, 7)]]
    assert api.delete(f"{API}/locations/WH1-A").status_code == 409  # has children
    assert api.delete(f"{API}/locations/LOSS").status_code == 422
    assert api.delete(f"{API}/locations/WH1-C").status_code == 204


def test_stock_filters_and_totals(api: TestClient) -> None:
    receive(api, "10", to="WH1-A-01")
    receive(api, "5", to="WH1-B-02")
    receive(api, "3", sku="COF-250", to="WH1-A-01", lot="L1")
    receive(api, "2", sku="COF-250", to="ST1-BACK", lot="L2")
    rows = api.get(f"{API}/stock", params={"location": "WH1-A"}).json()["items"]
    assert [(r["sku"], r["location"], r["lot"], r["on_hand"]) for r in rows] == [
        ("COF-250", "WH1-A-01", "L1", "3"),
        ("TEA-GRN", "WH1-A-01", None, "10"),
    ]
    by_gtin = api.get(f"{API}/stock", params={"gtin": "05901230001001"}).json()["items"]
    assert {r["location"] for r in by_gtin} == {"WH1-A-01", "ST1-BACK"}
    by_lot = api.get(f"{API}/stock", params={"sku": "COF-250", "lot": "L2"}).json()["items"]
    assert [r["location"] for r in by_lot] == ["ST1-BACK"]
    totals = api.get(f"{API}/stock/TEA-GRN").json()
    assert (totals["on_hand"], totals["available"], totals["below_reorder_point"]) == (
        "15",
        "15",
        True,
    )
    assert [r["location"] for r in totals["locations"]] == ["WH1-A-01", "WH1-B-02"]
    virtual = api.get(f"{API}/stock", params={"sku": "TEA-GRN", "include_virtual": True}).json()
    assert ("SUPPLIER", "-15") in {(r["location"], r["on_hand"]) for r in virtual["items"]}


def test_stock_pagination_visits_every_row_once(api: TestClient) -> None:
    for i, sku in enumerate(["TEA-GRN", "TEA-BLK", "PST-500", "RIC-1K", "FLR-1K"]):
        for bin_ in ("WH1-A-01", "WH1-A-02", "WH1-B-01"):
            receive(api, str(i + 1), sku=sku, to=bin_)
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"{API}/stock", params=params).json()
        seen += [(r["sku"], r["location"]) for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 15


def test_manual_movements_and_their_rules(api: TestClient) -> None:
    receive(api, "4")
    by_gtin = api.post(
        f"{API}/movements",
        json={
            "kind": "transfer",
            "gtin": "5901230001025",
            "qty": "1",
            "from_location": "WH1-A-01",
            "to_location": "WH1-B-01",
        },
    )
    assert (by_gtin.status_code, by_gtin.json()["sku"]) == (201, "TEA-GRN")
    transfer = api.post(
        f"{API}/movements",
        json={
            "kind": "transfer",
            "sku": "TEA-GRN",
            "qty": "2",
            "from_location": "WH1-A-01",
            "to_location": "WH1-B-01",
            "actor": "ann",
        },
    )
    assert transfer.status_code == 201
    assert transfer.json()["actor"] == "ann"
    oversell = api.post(
        f"{API}/movements",
        json={"kind": "adjust", "sku": "TEA-GRN", "qty": "2", "from_location": "WH1-A-01"},
    )
    assert oversell.status_code == 409
    assert oversell.headers["content-type"] == PROBLEM
    assert oversell.json()["detail"] == "TEA-GRN at WH1-A-01: 1 on hand, 2 requested"
    adjust = api.post(
        f"{API}/movements",
        json={"kind": "adjust", "sku": "TEA-GRN", "qty": "1", "from_location": "WH1-A-01"},
    )
    assert adjust.json()["to_location"] == "LOSS"
    no_lot = api.post(
        f"{API}/movements",
        json={"kind": "receive", "sku": "COF-250", "qty": "1", "to_location": "WH1-A-01"},
    )
    assert (no_lot.status_code, no_lot.json()["field"]) == (422, "lot")
    sale = api.post(
        f"{API}/movements",
        json={"kind": "sale", "sku": "TEA-GRN", "qty": "1", "from_location": "WH1-B-01"},
    )
    assert (sale.status_code, sale.json()["field"]) == (422, "kind")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "receive", "qty": "1", "to_location": "WH1-A-01"}, "body"),
        ({"kind": "receive", "sku": "TEA-GRN", "qty": "-1", "to_location": "WH1-A-01"}, "qty"),
        ({"kind": "receive", "sku": "TEA-GRN", "qty": "x", "to_location": "WH1-A-01"}, "qty"),
        (
            {
                "kind": "receive",
                "sku": "TEA-GRN",
                "qty": "1",
                "to_location": "WH1-A-01",
                "colour": "red",
            },
            "colour",
        ),
        (
            {"kind": "receive", "sku": "TEA-GRN", "qty": "1", "to_location": "NOWHERE"},
            "to_location",
        ),
        ({"kind": "receive", "sku": "NO-SUCH", "qty": "1", "to_location": "WH1-A-01"}, "sku"),
        (
            {"kind": "transfer", "sku": "TEA-GRN", "qty": "1", "from_location": "WH1-A-01"},
            "to_location",
        ),
        ({"kind": "receive", "sku": "TEA-GRN", "qty": "1.5", "to_location": "WH1-A-01"}, "qty"),
    ],
)
def test_invalid_requests_name_the_field(api: TestClient, body: dict[str, str], field: str) -> None:
    r = api.post(f"{API}/movements", json=body)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["field"] == field


def test_idempotency_key(api: TestClient) -> None:
    body = {"kind": "receive", "sku": "TEA-GRN", "qty": "2", "to_location": "WH1-A-01"}
    first = api.post(f"{API}/movements", json=body, headers={"Idempotency-Key": "abc"})
    again = api.post(f"{API}/movements", json=body, headers={"Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = api.post(
        f"{API}/movements", json={**body, "qty": "3"}, headers={"Idempotency-Key": "abc"}
    )
    assert (other.status_code, other.json()["field"]) == (409, "Idempotency-Key")
    assert api.get(f"{API}/stock/TEA-GRN").json()["on_hand"] == "2"


def test_concurrent_manual_movements_never_oversell(api: TestClient) -> None:
    receive(api, "5")

    def take(_: int) -> int:
        return api.post(
            f"{API}/movements",
            json={
                "kind": "transfer",
                "sku": "TEA-GRN",
                "qty": "1",
                "from_location": "WH1-A-01",
                "to_location": "WH1-B-01",
            },
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(take, range(20)))
    assert sorted(codes) == [201] * 5 + [409] * 15
    rows = api.get(f"{API}/stock", params={"location": "WH1-A-01", "include_zero": True}).json()
    assert [r["on_hand"] for r in rows["items"]] == ["0"]


def test_movements_filters_and_cursor(api: TestClient) -> None:
    for i in range(7):
        receive(api, str(i + 1), to="WH1-A-01" if i % 2 else "WH1-B-01", order_ref=f"PO-{i % 2}")
    page = api.get(f"{API}/movements", params={"limit": 3}).json()
    second = api.get(f"{API}/movements", params={"limit": 3, "cursor": page["next_cursor"]}).json()
    ids = [m["id"] for m in page["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 6
    assert len(api.get(f"{API}/movements", params={"location": "WH1-A"}).json()["items"]) == 3
    assert len(api.get(f"{API}/movements", params={"order_ref": "PO-0"}).json()["items"]) == 4
    future = api.get(f"{API}/movements", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future["items"] == []
    assert api.get(f"{API}/movements", params={"cursor": "garbage"}).json()["field"] == "cursor"
    naive = api.get(f"{API}/movements", params={"since": "2026-01-01T00:00:00"})
    assert (naive.status_code, naive.json()["field"]) == (422, "since")
    one = api.get(f"{API}/movements/{ids[0]}")
    assert one.json()["id"] == ids[0]
    assert api.get(f"{API}/movements/999999").status_code == 404


def test_health_and_openapi(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok", "database": "ok"}
    spec = api.get("/openapi.json").json()
    for path in (
        "/api/v1/stock",
        "/api/v1/stock/{sku}",
        "/api/v1/movements",
        "/api/v1/events/rejected",
        "/api/v1/agents",
        "/api/v1/products",
        "/api/v1/locations",
    ):
        assert path in spec["paths"]
    examples = spec["components"]["schemas"]["MovementIn"]["examples"]
    assert {e["kind"] for e in examples} == {"receive", "transfer", "adjust"}


def test_the_root_says_where_everything_is_to_anyone(seeded: Service) -> None:
    with TestClient(create_app(service=seeded)) as stranger:  # no credentials
        landing = stranger.get("/")
        assert landing.status_code == 200
        doc = landing.json()
        assert doc["api"] == "/api/v1"
        for route in ("docs", "redoc", "openapi", "health", "ready"):
            assert stranger.get(doc[route]).status_code == 200, route
