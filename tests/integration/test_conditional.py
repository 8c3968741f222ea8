"""Conditional reads: stock and movement listings carry an ETag, answer 304 to a client that
holds the current one, and change their tag when stock, the ledger or the reader's sites do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.core.api.conditional import matches

API = "/api/v1"


@pytest.fixture
def api(seeded: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as client:
        yield client


def move(api: TestClient, kind: str, qty: str, **where: str) -> None:
    body = {"kind": kind, "sku": "TEA-GRN", "qty": qty, **where}
    answer = api.post(f"{API}/movements", json=body)
    assert answer.status_code == 201, answer.text


def tag_of(api: TestClient, path: str, **headers: str) -> str:
    answer = api.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "private, no-cache"
    return answer.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/stock?limit=5",
        f"{API}/stock?location=WH1&include_virtual=true",
        f"{API}/stock/TEA-GRN",
        f"{API}/movements?limit=5",
    ],
)
def test_a_listing_answers_304_until_stock_changes(api: TestClient, path: str) -> None:
    move(api, "receive", "5", to_location="WH1-A-01")
    tag = tag_of(api, path)
    held = api.get(path, headers={"If-None-Match": tag})
    assert held.status_code == 304
    assert held.content == b""
    assert held.headers["etag"] == tag
    # a list of tags, one of them current, and the weak comparison RFC 9110 asks for
    other = 'W/"0.0-0000000000000000"'
    listed = api.get(path, headers={"If-None-Match": f"{other}, {tag.removeprefix('W/')}"})
    assert listed.status_code == 304
    assert api.get(path, headers={"If-None-Match": other}).status_code == 200

    move(api, "transfer", "2", from_location="WH1-A-01", to_location="WH1-A-02")
    changed = api.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert api.get(path, headers={"If-None-Match": changed.headers["etag"]}).status_code == 304


def test_a_reservation_alone_changes_the_tag(api: TestClient) -> None:
    """Reserved stock is in the listing (available = on hand - reserved), so a sales order's
    reservation, which writes no movement, must change the tag too."""
    move(api, "receive", "5", to_location="WH1-A-01")
    tag = tag_of(api, f"{API}/stock?sku=TEA-GRN")
    order = {
        "ref": "SO-ETAG",
        "site": "WH1",
        "customer": "Cafe",
        "lines": [{"sku": "TEA-GRN", "qty": "2"}],
    }
    assert api.post(f"{API}/sales-orders", json=order).status_code == 201
    confirmed = api.post(f"{API}/sales-orders/SO-ETAG/confirm")
    assert confirmed.status_code == 200, confirmed.text
    answer = api.get(f"{API}/stock?sku=TEA-GRN", headers={"If-None-Match": tag})
    assert answer.status_code == 200
    assert answer.json()["items"][0]["reserved"] == "2"


def test_the_tag_depends_on_the_query_and_on_who_asks(api: TestClient, seeded: Service) -> None:
    move(api, "receive", "5", to_location="WH1-A-01")
    tag = tag_of(api, f"{API}/stock?limit=5")
    assert tag_of(api, f"{API}/stock?limit=6") != tag
    # someone who sees one site gets a different page at the same URL, so a different tag
    one_site = {"Authorization": f"Bearer {token_for(seeded, 'staff@WH1', name='one-site')}"}
    scoped = api.get(f"{API}/stock?limit=5", headers={**one_site, "If-None-Match": tag})
    assert scoped.status_code == 200
    assert scoped.headers["etag"] != tag
    assert "Authorization" in scoped.headers["vary"]


def test_a_stranger_gets_401_not_a_304(api: TestClient) -> None:
    tag = tag_of(api, f"{API}/stock")
    answer = api.get(f"{API}/stock", headers={"Authorization": "", "If-None-Match": tag})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('W/"1.0-ab"', True),
        ('"1.0-ab"', True),
        ('"x", W/"1.0-ab"', True),
        ("*", True),
        ('W/"1.0-ac"', False),
        ('W/"1.0-ab', False),
    ],
)
def test_if_none_match_is_compared_weakly(header: str | None, expected: bool) -> None:
    assert matches(header, 'W/"1.0-ab"') is expected


def _hits() -> float:
    from warehouse.core.api.page_cache import LOOKUPS

    return LOOKUPS.labels("hit")._value.get()


def test_a_page_is_encoded_once_per_version(api: TestClient) -> None:
    """The second ask of an unchanged page comes from the page cache, byte for byte; a stock
    change makes the next one read the database, and it shows the change."""
    path = f"{API}/stock?sku=TEA-GRN"
    move(api, "receive", "5", to_location="WH1-A-01")
    first = api.get(path)
    hits = _hits()
    again = api.get(path)
    assert _hits() == hits + 1
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    move(api, "receive", "3", to_location="WH1-A-01")
    changed = api.get(path)
    assert _hits() == hits + 1  # a new version: read, not remembered
    assert changed.json()["items"][0]["on_hand"] == "8"


def test_no_cache_asks_the_database(api: TestClient) -> None:
    path = f"{API}/stock?limit=5"
    api.get(path)
    hits = _hits()
    fresh = api.get(path, headers={"Cache-Control": "no-cache"})
    assert fresh.status_code == 200
    assert _hits() == hits


def test_readers_of_different_sites_never_share_a_page(seeded: Service) -> None:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as admin:
        move(admin, "receive", "5", to_location="WH1-A-01")
        everything = admin.get(f"{API}/stock?limit=50").json()["items"]
        one_site = {"Authorization": f"Bearer {token_for(seeded, 'manager@ST1', name='st1')}"}
        theirs = admin.get(f"{API}/stock?limit=50", headers=one_site)
        assert theirs.status_code == 200, theirs.text
        assert any(row["location"].startswith("WH1") for row in everything)
        assert not any(row["location"].startswith("WH1") for row in theirs.json()["items"])


def test_a_catalog_change_changes_the_tag_and_the_page(api: TestClient) -> None:
    """A product renamed moves no stock, yet its stock page shows the name: the catalog's
    version is part of the tag, so neither a 304 nor the page cache keeps the old name."""
    move(api, "receive", "5", to_location="WH1-A-01")
    path = f"{API}/stock/TEA-GRN"
    before = api.get(path)
    product = api.get(f"{API}/products/TEA-GRN").json()
    renamed = {k: v for k, v in product.items() if k not in ("sku", "id", "active")}
    renamed["name"] = "Green tea, renamed"
    answer = api.put(f"{API}/products/TEA-GRN", json=renamed)
    assert answer.status_code == 200, answer.text
    held = api.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert held.status_code == 200
    assert held.json()["name"] == "Green tea, renamed"
