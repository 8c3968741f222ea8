"""The live stock feed against a real server: a client that drops and resumes with
``Last-Event-ID`` while sales are rung up gets every change exactly once, in order per
(product, location, lot); one that asks from before the retained feed gets a 410."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import func, select

from tests.conftest import LiveApi
from tests.integration.pos_fixtures import open_store, sale
from warehouse.bootstrap import Service
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters import tables

C = tables.stock_changes
SKUS = ("TEA-GRN", "TEA-BLK", "WTR-6")


def stock_events(response: httpx2.Response, deadline: float) -> Iterator[dict[str, Any]]:
    """The ``stock`` events of an SSE response, with their ids (pings come every 15 s: a
    stream that goes quiet fails the test at most that long after ``deadline``)."""
    event: dict[str, str] = {}
    for line in response.iter_lines():
        assert time.monotonic() < deadline, "the stream went quiet"
        if not line:
            if event.get("event") == "stock":
                yield {"id": int(event["id"]), **json.loads(event["data"])}
            event = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            event[key] = value.removeprefix(" ")


def read(client: httpx2.Client, want: int, **kw: Any) -> list[dict[str, Any]]:
    """``want`` events from one connection, then hang up."""
    got: list[dict[str, Any]] = []
    with client.stream("GET", "/api/v1/stream/stock", **kw) as response:
        assert response.status_code == 200, response.read()
        for event in stock_events(response, time.monotonic() + 20):
            got.append(event)
            if len(got) >= want:
                break
    return got


def feed_size(service: Service) -> int:
    with service.engine.connect() as conn:
        under = C.c.location_path.startswith("/ST1/")
        return int(conn.execute(select(func.count()).where(under)).scalar_one())


def test_a_client_that_resumes_gets_every_change_once_in_order(
    seeded: Service, live_api: LiveApi
) -> None:
    with httpx2.Client(base_url=live_api.base, headers=live_api.headers, timeout=20) as client:
        open_store(client)  # type: ignore[arg-type]
        errors: list[str] = []
        ringing = threading.Thread(target=ring, args=(live_api, 30, errors))
        ringing.start()
        first = read(client, 12, params={"site": "ST1", "after": 0})
        time.sleep(0.3)  # sales go on while it is away
        ringing.join(60)
        assert not ringing.is_alive()
        assert errors == []
        total = feed_size(seeded)
        assert total >= 3 + 30  # the store's receipts and one change per sale
        rest = read(
            client,
            total - len(first),
            params={"site": "ST1"},
            headers={"Last-Event-ID": str(first[-1]["id"])},
        )
        seen = first + rest
        ids = [e["id"] for e in seen]
        assert ids == sorted(set(ids))  # nothing twice, in feed order
        assert len(seen) == total  # nothing missed
        last: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        for e in seen:
            key = (e["sku"], e["location"], e["lot"])
            if key in last:
                assert e["version"] > last[key]["version"], (key, last[key], e)
            last[key] = e
        stock = {sku: client.get(f"/api/v1/stock/{sku}").json()["locations"] for sku in SKUS}
        for sku, rows in stock.items():
            here = next(r["on_hand"] for r in rows if r["location"] == "ST1-REG1")
            assert last[(sku, "ST1-REG1", None)]["on_hand"] == here
            assert here == "10"


def ring(api: LiveApi, n: int, errors: list[str]) -> None:
    with httpx2.Client(base_url=api.base, headers=api.headers, timeout=30) as client:
        for i in range(n):
            body = sale(f"S-{i}", [{"sku": SKUS[i % 3]}], [{"kind": "cash", "amount_minor": 500}])
            answer = client.post("/api/v1/pos/sales", json=body)
            if answer.status_code != 201:
                errors.append(answer.text)
                return
            time.sleep(0.01)


def test_resuming_from_before_the_retained_feed_is_a_410_with_the_position(
    seeded: Service, live_api: LiveApi
) -> None:
    with httpx2.Client(base_url=live_api.base, headers=live_api.headers, timeout=20) as client:
        open_store(client)  # type: ignore[arg-type]
        assert len(read(client, 3, params={"after": 0})) == 3  # numbered by the stream
        with seeded.engine.begin() as conn:
            assert stock_feed.prune(conn, datetime.now(UTC) + timedelta(days=1)) >= 2
            _, high = stock_feed.bounds(conn)
        gone = client.get("/api/v1/stream/stock", headers={"Last-Event-ID": "1"})
        assert gone.status_code == 410
        assert gone.json()["position"] == high
        assert gone.json()["field"] == "Last-Event-ID"
        bad = client.get("/api/v1/stream/stock", headers={"Last-Event-ID": "x1"})
        assert bad.status_code == 422


def test_a_change_made_while_the_stock_page_loads_reaches_its_stream(
    seeded: Service, live_api: LiveApi
) -> None:
    """The page's rows and its stream meet at the feed position the page read first: a receipt
    committed after the rows were read and before the browser opened the stream still arrives
    (the dashboard test that scanned during a page load waited for it in vain)."""
    with httpx2.Client(base_url=live_api.base, headers=live_api.headers, timeout=20) as client:
        open_store(client)  # type: ignore[arg-type]
        read(client, 3, params={"after": 0})  # the store's receipts, numbered
        page = client.get("/stock", params={"location": "ST1"}, headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        found = re.search(
            r'<table class="stock" data-live-stock[^>]* data-after="(\d+)"', page.text
        )
        assert found is not None, page.text
        after = int(found.group(1))
        assert after >= 3
        receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": "2", "to_location": "ST1-BACK"}
        answer = client.post("/api/v1/movements", json=receipt)
        assert answer.status_code == 201, answer.text
        (change,) = read(client, 1, params={"location": "ST1", "after": after})
        assert (change["sku"], change["location"]) == ("TEA-GRN", "ST1-BACK")
        assert change["id"] > after
