"""The stock and movement listings against a reference computed here from the movements made:
every filter combination, every page size, on both databases. The listings read denormalised
columns and range conditions (migration 0005); this is what keeps them honest."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.helpers import admin_headers
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.stock.api.schemas import MovementOut, MovementPage, SkuStock, StockPage

API = "/api/v1"
Key = tuple[str, str, str | None]

#: (kind, sku, qty, from, to, lot): stock on bins, on zones and sites themselves, in lots, and
#: rows brought back to zero.
MOVES: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    ("receive", "TEA-GRN", "10", None, "WH1-A-01", None),
    ("receive", "TEA-GRN", "5", None, "WH1-B-02", None),
    ("receive", "TEA-GRN", "2", None, "WH1-A", None),
    ("receive", "TEA-BLK", "7", None, "WH1", None),
    ("receive", "TEA-BLK", "1", None, "ST1-BACK", None),
    ("receive", "COF-250", "3", None, "WH1-A-01", "L1"),
    ("receive", "COF-250", "4", None, "WH1-A-01", "L2"),
    ("receive", "COF-250", "2", None, "ST1-BACK", "L2"),
    ("receive", "MLK-1L", "6", None, "WH1-A-02", "L1"),
    ("receive", "PST-500", "9", None, "WH1-PACK", None),
    ("receive", "RIC-1K", "3", None, "WH1-B-01", None),
    ("transfer", "RIC-1K", "3", "WH1-B-01", "WH1-B-06", None),  # WH1-B-01 back to zero
    ("transfer", "TEA-GRN", "5", "WH1-B-02", "ST1-BACK", None),  # WH1-B-02 back to zero
    ("adjust", "COF-250", "4", "WH1-A-01", None, "L2"),  # L2 at WH1-A-01 back to zero
    ("receive", "FLR-1K", "1", None, "ST1-REG-1", None),
]


@pytest.fixture
def api(seeded: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as client:
        for kind, sku, qty, src, dst, lot in MOVES:
            body = {"kind": kind, "sku": sku, "qty": qty}
            body |= {"from_location": src} if src else {}
            body |= {"to_location": dst} if dst else {}
            body |= {"lot": lot} if lot else {}
            r = client.post(f"{API}/movements", json=body)
            assert r.status_code == 201, r.text
        yield client


def balances() -> dict[Key, Decimal]:
    """Physical balances (zero ones included) from MOVES alone."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for _kind, sku, qty, src, dst, lot in MOVES:
        if src:
            out[(sku, src, lot)] -= Decimal(qty)
        if dst:
            out[(sku, dst, lot)] += Decimal(qty)
    return dict(out)


def under(api: TestClient) -> dict[str, set[str]]:
    """Each location code with the codes of its subtree (itself included)."""
    paths = {
        loc["code"]: loc["path"]
        for loc in api.get(f"{API}/locations", params={"limit": 500}).json()["items"]
    }
    return {
        code: {c for c, p in paths.items() if p[: len(path)] == path}
        for code, path in paths.items()
    }


def documented(body: Any, model: type[BaseModel]) -> None:
    """``body`` is exactly what the route's response model would have produced: these routes
    serialise their rows directly, so this is where their schema is held."""
    assert model.model_validate(body).model_dump(mode="json") == body


def every_page(api: TestClient, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows, cursor, pages = [], None, 0
    while True:
        r = api.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        body = r.json()
        documented(body, StockPage if url.endswith("/stock") else MovementPage)
        rows += body["items"]
        pages += 1
        assert len(body["items"]) <= params["limit"]
        if not (cursor := body["next_cursor"]):
            return rows
        assert pages < 100, "the cursor never ends"


def test_every_stock_filter_and_page_size_matches_the_ledger(api: TestClient) -> None:
    subtree = under(api)
    gtin_of = {"COF-250": "05901230001001", "TEA-GRN": "05901230001025"}
    expected_all = balances()
    combos = itertools.product(
        [None, "WH1", "WH1-A", "WH1-A-01", "WH1-B", "WH1-PACK", "ST1", "ST1-BACK", "WH1-DOCK-1"],
        [None, "sku:TEA-GRN", "sku:COF-250", "gtin:COF-250", "sku:SUG-1K"],
        [None, "L2"],
        [False, True],
    )
    checked = 0
    for location, product, lot, zero in combos:
        params: dict[str, Any] = {"include_zero": zero}
        want_sku = None
        if product:
            by, want_sku = product.split(":")
            params[by] = gtin_of[want_sku] if by == "gtin" else want_sku
        params |= {"location": location} if location else {}
        params |= {"lot": lot} if lot else {}
        expected = sorted(
            (sku, loc, lt, qty)
            for (sku, loc, lt), qty in expected_all.items()
            if (want_sku is None or sku == want_sku)
            and (location is None or loc in subtree[location])
            and (lot is None or lt == lot)
            and (zero or qty != 0)
        )
        expected_order = sorted(expected, key=lambda e: (e[0], e[1], e[2] or ""))
        for limit in (1, 3, 100):
            rows = every_page(api, f"{API}/stock", {**params, "limit": limit})
            got = [(r["sku"], r["location"], r["lot"], Decimal(r["on_hand"])) for r in rows]
            assert got == expected_order, (params, limit)
            assert all(Decimal(r["available"]) == Decimal(r["on_hand"]) for r in rows)
            checked += 1
        # the ledger-summing path (include_virtual) agrees on the physical rows
        virtual = every_page(api, f"{API}/stock", {**params, "include_virtual": True, "limit": 4})
        physical = [
            (r["sku"], r["location"], r["lot"], Decimal(r["on_hand"]))
            for r in virtual
            if r["location"] not in {"SUPPLIER", "CUSTOMER", "LOSS", "TRANSIT"}
        ]
        assert physical == expected_order, params
    assert checked == 9 * 5 * 2 * 2 * 3


def test_stock_of_one_sku_matches_the_ledger(api: TestClient) -> None:
    for sku in ("TEA-GRN", "COF-250", "RIC-1K", "SUG-1K"):
        body = api.get(f"{API}/stock/{sku}").json()
        documented(body, SkuStock)
        expected = sorted(
            (loc, lot, qty) for (s, loc, lot), qty in balances().items() if s == sku and qty
        )
        got = [(r["location"], r["lot"], Decimal(r["on_hand"])) for r in body["locations"]]
        assert got == sorted(expected, key=lambda e: (e[0], e[1] or ""))
        assert Decimal(body["on_hand"]) == sum((e[2] for e in expected), Decimal(0))
    assert api.get(f"{API}/stock/NO-SUCH").status_code == 404


def test_unknown_filters_are_404_not_empty(api: TestClient) -> None:
    for params in ({"sku": "NO-SUCH"}, {"gtin": "05901239999994"}, {"location": "NOWHERE"}):
        r = api.get(f"{API}/stock", params=params)
        assert r.status_code == 404, (params, r.text)
        assert r.json()["field"] == next(iter(params))


def test_every_movement_filter_and_page_size_matches_the_ledger(api: TestClient) -> None:
    subtree = under(api)
    everything = every_page(api, f"{API}/movements", {"limit": 100})
    assert len(everything) == len(MOVES)
    assert [m["id"] for m in everything] == sorted((m["id"] for m in everything), reverse=True)
    for location, sku, kind in itertools.product(
        [None, "WH1", "WH1-A", "WH1-A-01", "WH1-B-01", "ST1", "CUSTOMER", "LOSS"],
        [None, "TEA-GRN", "COF-250"],
        [None, "receive", "transfer", "adjust"],
    ):
        params: dict[str, Any] = {}
        params |= {"location": location} if location else {}
        params |= {"sku": sku} if sku else {}
        params |= {"kind": kind} if kind else {}
        expected = [
            m["id"]
            for m in everything
            if (sku is None or m["sku"] == sku)
            and (kind is None or m["kind"] == kind)
            and (
                location is None
                or m["from_location"] in subtree[location]
                or m["to_location"] in subtree[location]
            )
        ]
        for limit in (1, 4, 100):
            rows = every_page(api, f"{API}/movements", {**params, "limit": limit})
            assert [m["id"] for m in rows] == expected, (params, limit)
    for m in everything:
        one = api.get(f"{API}/movements/{m['id']}").json()
        documented(one, MovementOut)
        assert one == m
