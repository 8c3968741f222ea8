"""An edge register's cashier sessions: opened with a float and closed with the cash counted at
the till, its sales and drawer events in the session, an API sale at the same register in it too,
and the Z report over all of it; a sale that arrives after the close is in the Z report as well."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers
from tests.integration.pos_fixtures import PRICES, ok
from warehouse import pricing
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate
from warehouse_edge.config import AgentConfig
from warehouse_edge.outbox import Outbox
from warehouse_edge.till import Till

API = "/api/v1"
TEA, WATER = "5901230001025", "5901230001070"


@pytest.fixture
def client(seeded: Service) -> Any:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as c:
        yield c


def store(client: TestClient) -> None:
    """ST1 with register ST1-REG1, prices and stock, and no session open."""
    place = {"code": "ST1-REG1", "name": "Till", "kind": "register", "parent_code": "ST1"}
    ok(client.post(f"{API}/locations", json=place))
    for category, rate in (("standard", "20"), ("reduced", "7")):
        body = {"site": "ST1", "category": category, "rate_percent": rate,
                "valid_from": "2020-01-01"}  # fmt: skip
        ok(client.post(f"{API}/pos/tax-rates", json=body))
    listed = {"site": "ST1", "name": "everyday", "currency": "EUR", "cash_step_minor": 5,
              "prices": PRICES}  # fmt: skip
    ok(client.post(f"{API}/pos/price-lists", json=listed))
    ok(client.post(f"{API}/pos/registers", json={"location": "ST1-REG1"}))
    for sku in ("TEA-GRN", "WTR-6"):
        receipt = {"kind": "receive", "sku": sku, "qty": "20", "to_location": "ST1-REG1"}
        ok(client.post(f"{API}/movements", json=receipt))


def a_till(tmp_path: Path, client: TestClient) -> Till:
    config = AgentConfig.model_validate(
        {
            "agent_id": "till-1",
            "site": "ST1",
            "outbox": {"path": str(tmp_path / "outbox.db")},
            "stations": [{"name": "till", "mode": "pos", "location": "ST1-REG1", "cashier": "ann"}],
        }
    )
    till = Till(config, config.stations[0], Outbox(config.outbox.path, budget_bytes=10**7), None)
    book = ok(client.get(f"{API}/pos/price-book", params={"site": "ST1"}), 200)
    till.use(pricing.PriceBook.from_dict(book))
    return till


def scan(till: Till, *codes: str) -> None:
    for code in codes:
        outcome = till.read(code, "scanner-1")
        assert outcome.level != "error", (code, outcome.text)


def deliver(service: Service, till: Till, seqs: list[int] | None = None) -> None:
    """The till's outbox into the ingest, as the broker would hand it over (only ``seqs``,
    in that order, when given)."""
    pending = {p.seq: p for p in till.outbox.pending(0, 1000)}
    order = seqs if seqs is not None else sorted(pending)
    items = [translate(pending[s].topic, pending[s].payload, 256 * 1024) for s in order]
    result = ingest_batch(service.uow(), service.catalog, items, datetime.now(UTC))
    assert result.rejected == 0, result


def test_an_edge_session_and_its_z_report_cover_edge_and_api_sales(
    client: TestClient, seeded: Service, tmp_path: Path
) -> None:
    store(client)
    till = a_till(tmp_path, client)
    scan(till, "OPEN:100.00", TEA, "PAY:CASH:10.00", WATER, WATER, "PAY:CARD:5.98:AUTH-9")
    scan(till, "PAYOUT:12.50:window cleaner", "PAYIN:5.00", "NOSALE")
    deliver(seeded, till)
    (session,) = ok(client.get(f"{API}/pos/sessions", params={"register": "ST1-REG1"}), 200)[
        "items"
    ]
    assert (session["source"], session["session_no"], session["status"]) == ("edge", 1, "open")
    assert (session["float_minor"], session["cashier"]) == (10000, "ann")
    # a sale through the API at the register meanwhile belongs to the session open there
    sale = {"sale_id": "api-1", "register": "ST1-REG1", "lines": [{"sku": "TEA-GRN"}],
            "tenders": [{"kind": "cash", "amount_minor": 500}]}  # fmt: skip
    ok(client.post(f"{API}/pos/sales", json=sale))
    x = ok(client.get(f"{API}/pos/sessions/{session['session_id']}"), 200)
    assert (x["kind"], x["sales"], x["sales_minor"]) == ("X", 3, 499 + 598 + 499)
    assert (x["paid_in_minor"], x["paid_out_minor"], x["no_sales"]) == (500, 1250, 1)
    cash = x["tenders"]["cash"]
    assert x["cash_expected_minor"] == 10000 + cash + 500 - 1250
    scan(till, f"CLOSE:{(x['cash_expected_minor'] - 20) / 100:.2f}")  # two coins short
    deliver(seeded, till, [max(p.seq for p in till.outbox.pending(0, 1000))])
    z = ok(client.get(f"{API}/pos/sessions/{session['session_id']}"), 200)
    assert (z["kind"], z["sales"], z["cash_difference_minor"]) == ("Z", 3, -20)
    edge = ok(client.get(f"{API}/pos/sales", params={"session_id": session["session_id"]}), 200)
    assert sorted(s["source"] for s in edge["items"]) == ["api", "edge", "edge"]


def test_events_of_a_session_that_arrive_out_of_order_still_add_up(
    client: TestClient, seeded: Service, tmp_path: Path
) -> None:
    store(client)
    till = a_till(tmp_path, client)
    scan(till, "OPEN:50.00", TEA, "PAY:CARD", WATER, "PAY:CASH:5.00", "CLOSE:52.99")
    seqs = [p.seq for p in till.outbox.pending(0, 100)]  # open, sale, sale, close
    deliver(seeded, till, [seqs[1], seqs[3]])  # a sale, then the close
    deliver(seeded, till, [seqs[0], seqs[2]])  # the opening and the other sale after a gap
    (session,) = ok(client.get(f"{API}/pos/sessions"), 200)["items"]
    assert (session["status"], session["float_minor"]) == ("closed", 5000)
    z = ok(client.get(f"{API}/pos/sessions/{session['session_id']}"), 200)
    assert (z["kind"], z["sales"], z["sales_minor"]) == ("Z", 2, 499 + 299)
    assert z["cash_expected_minor"] == 5000 + 300  # the water, cash rounded to 0.05
    assert z["cash_difference_minor"] == 5299 - 5300
    # the close delivered again counts once
    deliver(seeded, till, [seqs[3]])
    assert len(ok(client.get(f"{API}/pos/sessions"), 200)["items"]) == 1


def test_the_drawer_through_the_api(client: TestClient, seeded: Service) -> None:
    store(client)
    opened = ok(client.post(f"{API}/pos/registers/ST1-REG1/sessions", json={"float_minor": 2000}))
    path = f"{API}/pos/sessions/{opened['session_id']}/drawer"
    x = ok(client.post(path, json={"kind": "paid_out", "amount_minor": 750, "reason": "stamps"}))
    assert (x["paid_out_minor"], x["cash_expected_minor"]) == (750, 1250)
    assert client.post(path, json={"kind": "paid_in"}).status_code == 422  # needs an amount
    assert client.post(path, json={"kind": "no_sale", "amount_minor": 5}).status_code == 422
    assert ok(client.post(path, json={"kind": "no_sale"}))["no_sales"] == 1
    audit = ok(client.get(f"{API}/audit", params={"action": "session.paid_out"}), 200)
    assert len(audit["items"]) == 1
    ok(client.post(f"{API}/pos/sessions/{opened['session_id']}/close",
                   json={"counted_minor": 1250}), 200)  # fmt: skip
    assert client.post(path, json={"kind": "no_sale"}).status_code == 409  # closed
