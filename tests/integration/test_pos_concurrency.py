"""Fifty registers at once reaching for the last five units, against a real server."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from tests.conftest import LiveApi
from tests.integration.pos_fixtures import open_store, sale
from warehouse.bootstrap import Service

pytestmark = [pytest.mark.postgres]


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_fifty_concurrent_sales_of_the_last_five_units(
    seeded: Service, live_api: LiveApi, round_: int
) -> None:
    if seeded.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: there is no race to lose there")
    with httpx2.Client(base_url=live_api.base, headers=live_api.headers, timeout=60) as client:
        open_store(client, stock={"TEA-GRN": 5})  # type: ignore[arg-type]

        def ring(n: int) -> httpx2.Response:
            body = sale(
                f"S-{round_}-{n}", [{"sku": "TEA-GRN"}], [{"kind": "card", "amount_minor": 499}]
            )
            return client.post("/api/v1/pos/sales", json=body)

        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(ring, range(50)))
        statuses = Counter(r.status_code for r in answers)
        assert statuses == {201: 5, 409: 45}, statuses
        refused = next(r.json() for r in answers if r.status_code == 409)
        assert refused["field"] == "lines[0].qty"
        numbers = sorted(r.json()["receipt_no"] for r in answers if r.status_code == 201)
        assert numbers == [1, 2, 3, 4, 5]  # gapless: a refused sale takes no number
        rows = client.get("/api/v1/stock/TEA-GRN").json()["locations"]
        assert sum(float(r["on_hand"]) for r in rows if r["location"] == "ST1-REG1") == 0
