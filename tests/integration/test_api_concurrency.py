"""Many clients at once against a real server: exact answers, never a 5xx, never a hang."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from tests.conftest import LiveApi
from warehouse.bootstrap import Service
from warehouse.stock.adapters import stock_queries

API = "/api/v1"


def post(api: LiveApi, body: dict[str, Any], **headers: str) -> httpx2.Response:
    return httpx2.post(
        f"{api.base}{API}/movements", json=body, headers={**api.headers, **headers}, timeout=60
    )


def on_hand(service: Service, location: str) -> Any:
    with service.engine.connect() as conn:
        rows = stock_queries.stock(conn, sku="TEA-GRN", location=location, include_zero=True).items
    return sum(r["on_hand"] for r in rows)


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_fifty_concurrent_transfers_of_the_last_five_units(
    seeded: Service, live_api: LiveApi, round_: int
) -> None:
    receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": "5", "to_location": "WH1-A-01"}
    assert post(live_api, receipt).status_code == 201
    transfer = {
        "kind": "transfer",
        "sku": "TEA-GRN",
        "qty": "1",
        "from_location": "WH1-A-01",
        "to_location": "WH1-A-02",
    }
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: post(live_api, transfer), range(50)))
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 5, 409: 45}, statuses
    assert on_hand(seeded, "WH1-A-01") == 0
    assert on_hand(seeded, "WH1-A-02") == 5


def test_twenty_concurrent_posts_with_one_idempotency_key(
    seeded: Service, live_api: LiveApi
) -> None:
    body = {"kind": "receive", "sku": "TEA-GRN", "qty": "3", "to_location": "WH1-A-01"}
    with ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda _: post(live_api, body, **{"Idempotency-Key": "k-1"}), range(20))
        )
    assert {r.status_code for r in answers} <= {201, 409}
    firsts = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(firsts) == 1  # every 201 is the first result, replayed
    assert on_hand(seeded, "WH1-A-01") == 3
    other = post(live_api, {**body, "qty": "4"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409


def test_pool_exhaustion_is_a_503_with_retry_after(seeded: Service) -> None:
    """Every pooled connection held elsewhere: a request waits the configured time, then 503."""
    from warehouse.bootstrap import bootstrap
    from warehouse.core.config import Settings

    service = bootstrap(
        Settings(
            database_url=seeded.settings.database_url,
            db_pool_size=1,
            db_max_overflow=0,
            db_pool_timeout_s=0.5,
        )
    )
    try:
        with LiveApi(service) as api:
            reads = api.app.state.reads
            assert api.loop is not None
            release = threading.Event()
            held = threading.Event()

            async def hold_the_only_connection() -> None:
                # reads on PostgreSQL have an asyncio pool of the app's own (SQLite: the engine's)
                async with reads._async.connect():
                    held.set()
                    await asyncio.get_running_loop().run_in_executor(None, release.wait)

            holding = sync_held = None
            if reads._async is not None:
                holding = asyncio.run_coroutine_threadsafe(hold_the_only_connection(), api.loop)
            else:
                sync_held = service.engine.connect()
                held.set()
            assert held.wait(10)
            answer = httpx2.get(f"{api.base}{API}/stock", headers=api.headers, timeout=30)
            release.set()
            if holding is not None:
                holding.result(10)
            if sync_held is not None:
                sync_held.close()
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
    finally:
        service.close()
