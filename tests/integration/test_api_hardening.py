"""The API's answers to what schemathesis and outside checks found: each a 4xx naming the
problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers
from warehouse.app import create_app
from warehouse.bootstrap import Service

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def api(seeded: Service) -> Iterator[TestClient]:
    with TestClient(
        create_app(service=seeded), raise_server_exceptions=False, headers=admin_headers(seeded)
    ) as client:
        yield client


def test_a_nul_byte_anywhere_is_a_422_naming_the_field(api: TestClient) -> None:
    body = {"sku": "NUL-1", "name": "bad\u0000name"}
    answer = api.post(f"{API}/products", json=body)
    assert (answer.status_code, answer.json()["field"]) == (422, "name")
    assert "NUL" in answer.json()["detail"]
    assert api.get(f"{API}/stock", params={"sku": "a\x00b"}).json()["field"] == "sku"
    assert api.get(f"{API}/products/a%00b").status_code == 422
    moved = api.post(
        f"{API}/movements",
        json={
            "kind": "receive",
            "sku": "TEA-GRN",
            "qty": 1,
            "to_location": "WH1-A-01",
            "lot": "\u0000",
        },
    )
    assert (moved.status_code, moved.json()["field"]) == (422, "lot")


def test_ids_and_cursors_out_of_range(api: TestClient) -> None:
    assert api.get(f"{API}/movements/{2**63}").status_code == 422
    assert api.get(f"{API}/movements/{2**63 - 1}").status_code == 404
    for cursor in ("!", "WzEsMl0", "W1tbW1tbW1tbXV1dXV1dXV1d", "WzkyMjMzNzIwMzY4NTQ3NzU4MDhd"):
        answer = api.get(f"{API}/movements", params={"cursor": cursor})
        assert (answer.status_code, answer.json()["type"].rsplit("/", 1)[1]) == (
            400,
            "invalid-cursor",
        ), cursor


def test_repeated_aliases_are_a_422(api: TestClient) -> None:
    body = {"sku": "AL-1", "name": "x", "aliases": ["A1", "A1"]}
    answer = api.post(f"{API}/products", json=body)
    assert (answer.status_code, answer.json()["field"]) == (422, "aliases.1")
    same_as_gtin = {
        "sku": "AL-2",
        "name": "x",
        "gtins": ["96385074"],
        "aliases": ["00000096385074"],
    }
    assert api.post(f"{API}/products", json=same_as_gtin).status_code == 422


def test_a_deleted_product_is_not_served_from_the_cache(api: TestClient) -> None:
    assert api.post(f"{API}/products", json={"sku": "GONE-1", "name": "x"}).status_code == 201
    receive = {"kind": "receive", "sku": "GONE-1", "qty": 1, "to_location": "WH1-A-01"}
    api.post(f"{API}/movements", json={**receive, "to_location": "NOWHERE"})  # caches GONE-1
    assert api.delete(f"{API}/products/GONE-1").status_code == 204
    answer = api.post(f"{API}/movements", json=receive)
    assert (answer.status_code, answer.json()["field"]) == (404, "sku")


def test_virtual_locations_keep_their_kind_and_stay(api: TestClient) -> None:
    retyped = api.put(f"{API}/locations/SUPPLIER", json={"name": "Suppliers", "kind": "customer"})
    assert (retyped.status_code, retyped.json()["field"]) == (422, "kind")
    assert (
        api.put(
            f"{API}/locations/SUPPLIER", json={"name": "Vendors", "kind": "supplier"}
        ).status_code
        == 200
    )
    for code in ("SUPPLIER", "CUSTOMER", "LOSS", "TRANSIT"):
        assert api.delete(f"{API}/locations/{code}").status_code == 422
    receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": 1, "to_location": "WH1-A-01"}
    assert api.post(f"{API}/movements", json=receipt).status_code == 201


def test_405_says_what_is_allowed(api: TestClient) -> None:
    answer = api.patch(f"{API}/stock")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"
    assert answer.headers["content-type"] == PROBLEM


def test_a_huge_body_is_refused_before_it_is_read(api: TestClient) -> None:
    declared = api.post(
        f"{API}/products",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": str(300 * 1024 * 1024)},
    )
    assert declared.status_code == 413

    def stream() -> Iterator[bytes]:  # no Content-Length: chunked, 300 MiB if it were all read
        for _ in range(300):
            yield b" " * (1024 * 1024)

    streamed = api.post(
        f"{API}/products", content=stream(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == PROBLEM


def test_health_says_nothing_of_the_driver(seeded: Service) -> None:
    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings

    broken = bootstrap(Settings(database_url="postgresql://nobody:secret@127.0.0.1:1/none"))
    with TestClient(create_app(service=broken)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unavailable"}
    broken.close()


def test_malformed_json_says_where_and_names_no_field(api: TestClient) -> None:
    answer = api.post(
        f"{API}/products",
        content=b'{"sku": "A",\n "name": }',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] == "the body is not valid JSON: Expecting value at line 2, column 10"
    assert "field" not in body


def test_every_missing_field_is_listed_at_once(api: TestClient) -> None:
    answer = api.post(f"{API}/products", json={})
    assert answer.status_code == 422
    assert sorted(e["field"] for e in answer.json()["errors"]) == ["name", "sku"]


def test_readyz(api: TestClient, tmp_path: object) -> None:
    ready = api.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"ready": True, "database": "ok", "schema": "ok"},
    )
    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings

    empty = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/empty.db"))
    with TestClient(create_app(service=empty)) as client:
        answer = client.get("/readyz")
    empty.close()
    assert answer.status_code == 503
    assert answer.json()["schema"] == "out of date: run `warehouse db upgrade`"
