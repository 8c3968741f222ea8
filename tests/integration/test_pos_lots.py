"""The point of sale on lot-, expiry- and serial-tracked goods, through the API and from an edge
register through the real broker and the ingest: lots sold first expiry first, a lot or unit a
code names, expired lots never sold by the allocator (refused when named at the API, flagged from
the edge), refunds back into their lot, and no false negative-stock exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import ResendingPublisher, admin_headers, wait_for
from tests.integration.pos_fixtures import ok
from tests.integration.test_pos_pricing import sale_event
from warehouse import pricing
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.exceptions.adapters import tables
from warehouse_edge.register import Register

API = "/api/v1"
MILK, PHONES = "05901230001049", "05901230001254"  # MLK-1L (lots), HDP-BT (serials)
TODAY = datetime.now(UTC).date()
SOON, LATER, GONE = (TODAY + timedelta(days=d) for d in (30, 90, -10))


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def milk(lot: str, expiry: date | None = None) -> str:
    """MLK-1L's GS1 element string, as printed: (01) GTIN, (10) lot, (17) expiry."""
    return f"(01){MILK}(10){lot}" + (f"(17){yymmdd(expiry)}" if expiry else "")


def phone(serial: str) -> str:
    return f"(01){PHONES}(21){serial}"


def store(client: TestClient, site: str) -> str:
    """A store at ``site`` with a register holding milk in three lots (B expiring first, A
    later, X expired) and two headphones by serial, prices and an open session."""
    register = f"{site}-REG"
    if client.get(f"{API}/locations/{site}").status_code == 404:
        ok(client.post(f"{API}/locations", json={"code": site, "name": site, "kind": "site"}))
    place = {"code": register, "name": "Till", "kind": "register", "parent_code": site}
    ok(client.post(f"{API}/locations", json=place))
    rate = {"site": site, "category": "standard", "rate_percent": "20", "valid_from": "2020-01-01"}
    ok(client.post(f"{API}/pos/tax-rates", json=rate))
    prices = [
        {"sku": "MLK-1L", "unit_price_minor": 119},
        {"sku": "HDP-BT", "unit_price_minor": 4999},
        {"sku": "TEA-GRN", "unit_price_minor": 499},
    ]
    listed = {"site": site, "name": "everyday", "currency": "EUR", "prices": prices}
    ok(client.post(f"{API}/pos/price-lists", json=listed))
    ok(client.post(f"{API}/pos/registers", json={"location": register}))
    for code, qty in (
        (milk("A", LATER), 5),
        (milk("B", SOON), 5),
        (milk("X", GONE), 3),
        (phone("SN1"), 1),
        (phone("SN2"), 1),
    ):
        receipt = {"kind": "receive", "code": code, "qty": str(qty), "to_location": register}
        ok(client.post(f"{API}/movements", json=receipt))
    ok(client.post(f"{API}/pos/registers/{register}/sessions", json={"float_minor": 0}))
    return register


def lots(client: TestClient, register: str, sku: str = "MLK-1L") -> dict[str, str]:
    rows = ok(client.get(f"{API}/stock/{sku}"), 200)["locations"]
    return {r["lot"] or "": r["on_hand"] for r in rows if r["location"] == register}


def unit_at(client: TestClient, serial: str) -> str:
    units = ok(client.get(f"{API}/units", params={"sku": "HDP-BT"}), 200)["items"]
    return str(next(u["location"] for u in units if u["serial"] == serial))


def kinds(service: Service) -> list[str]:
    with service.engine.connect() as conn:
        return list(conn.execute(select(tables.floor_exceptions.c.kind)).scalars())


def sell(client: TestClient, register: str, sale_id: str, *lines: dict[str, Any]) -> Any:
    body = {
        "sale_id": sale_id,
        "register": register,
        "lines": list(lines),
        "tenders": [{"kind": "cash", "amount_minor": 100_000}],
    }
    return client.post(f"{API}/pos/sales", json=body)


@pytest.fixture
def client(seeded: Service) -> Any:
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as c:
        yield c


def test_api_sales_take_lots_by_expiry_and_what_a_code_names(
    client: TestClient, seeded: Service
) -> None:
    register = store(client, "ST1")
    # seven by SKU: the five of lot B (first to expire), then two of A; expired X is not sold
    ok(sell(client, register, "S-1", {"sku": "MLK-1L", "qty": "7"}))
    assert lots(client, register) == {"A": "3", "X": "3"}  # (an empty lot is not listed)
    # the element string and the Digital Link name their lot (and are priced by their GTIN)
    ok(sell(client, register, "S-2", {"code": milk("A"), "qty": "1"}))
    link = f"https://id.gs1.org/01/{MILK}/10/A"
    ok(sell(client, register, "S-3", {"code": link}, {"sku": "MLK-1L", "lot": "A"}))
    assert "A" not in lots(client, register)
    # a lot past its expiry is refused when named, and never sold by the allocator
    expired = sell(client, register, "S-4", {"code": milk("X")})
    assert expired.status_code == 422
    assert expired.json()["field"] == "lines[0].lot"
    assert "expired" in expired.json()["detail"]
    short = sell(client, register, "S-5", {"sku": "TEA-GRN", "qty": "0"}, {"sku": "MLK-1L"})
    assert short.status_code == 422  # (a zero quantity: the body is refused before stock)
    short = sell(client, register, "S-5", {"sku": "MLK-1L"})
    assert short.status_code == 409
    assert short.json()["field"] == "lines[0].qty"
    assert "3 more in lots past their expiry" in short.json()["detail"]
    assert lots(client, register) == {"X": "3"}
    assert "negative_stock" not in kinds(seeded)


def test_api_refunds_go_back_into_the_lots_they_left(client: TestClient) -> None:
    register = store(client, "ST1")
    ok(sell(client, register, "S-1", {"sku": "MLK-1L", "qty": "7"}))  # 5 of B, 2 of A
    back = {"refund_id": "R-1", "register": register, "sale_id": "S-1"}
    ok(client.post(f"{API}/pos/refunds", json={**back, "lines": [{"line_no": 1, "qty": "3"}]}))
    assert lots(client, register) == {"A": "5", "B": "1", "X": "3"}  # the last taken first
    rest = {**back, "refund_id": "R-2", "lines": [{"line_no": 1, "qty": "4"}]}
    ok(client.post(f"{API}/pos/refunds", json=rest))
    assert lots(client, register) == {"A": "5", "B": "5", "X": "3"}
    again = {**back, "refund_id": "R-3", "lines": [{"line_no": 1, "qty": "1"}]}
    assert client.post(f"{API}/pos/refunds", json=again).status_code == 422  # all came back


def test_api_sells_serial_goods_by_unit(client: TestClient) -> None:
    register = store(client, "ST1")
    unnamed = sell(client, register, "S-1", {"sku": "HDP-BT"})
    assert unnamed.status_code == 422
    assert "serial-tracked" in unnamed.json()["detail"]
    assert sell(client, register, "S-2", {"sku": "HDP-BT", "serial": "NOPE"}).status_code == 422
    two = sell(client, register, "S-3", {"code": phone("SN1"), "qty": "2"})
    assert two.status_code == 422
    assert "qty must be 1 per serial" in two.json()["detail"]
    ok(sell(client, register, "S-4", {"code": phone("SN1")}))
    assert unit_at(client, "SN1") == "CUSTOMER"
    assert unit_at(client, "SN2") == register
    elsewhere = sell(client, register, "S-5", {"sku": "HDP-BT", "serial": "SN1"})
    assert elsewhere.status_code == 422  # it was sold: the ledger has it at the customer
    refund = {"refund_id": "R-1", "register": register, "sale_id": "S-4"}
    ok(client.post(f"{API}/pos/refunds", json={**refund, "lines": [{"line_no": 1, "qty": "1"}]}))
    assert unit_at(client, "SN1") == register
    assert lots(client, register, "HDP-BT") == {"": "2"}


def scan_sale(book: pricing.PriceBook, *codes: str) -> Any:
    till = Register(book)
    outcomes = [till.read(code) for code in codes]
    assert all(o.level != "error" for o in outcomes), outcomes
    assert outcomes[-1].completed is not None, outcomes
    return outcomes[-1].completed


@pytest.mark.mosquitto
def test_edge_register_sales_through_the_broker_take_lots_and_units(
    client: TestClient, seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    register = store(client, site)
    book = pricing.PriceBook.from_dict(
        ok(client.get(f"{API}/pos/price-book", params={"site": site}), 200)
    )
    first = scan_sale(book, "QTY:7", MILK[1:], milk("A", LATER), phone("SN1"), "PAY:CASH")
    # more milk than the unexpired lots hold: it was sold, so the expired lot gives it
    second = scan_sale(book, "QTY:6", MILK[1:], "PAY:CARD")
    third = scan_sale(book, milk("X", GONE), "PAY:CARD")  # an expired lot, scanned by name
    publisher = ResendingPublisher(*mosquitto, site, "till-1")
    try:
        for seq, done in enumerate((first, second, third), start=1):
            data = done.data(register, seq, "ann").model_dump(mode="json", by_alias=True)
            publisher.publish(seq, sale_event(site, seq, data))
        assert publisher.wait_all_acked(3, 20)
    finally:
        publisher.close()
    wait_for(lambda: client.get(f"{API}/pos/sales/{third.sale_id}").status_code == 200)
    # first: 5 of B and 2 of A by expiry, then the A the code named; second: A's last 2, then
    # the 3 of X, and the one more than the shelf held below zero where no lot is; third: X
    assert lots(client, register) == {"": "-1", "X": "-1"}
    assert unit_at(client, "SN1") == "CUSTOMER"
    found = kinds(seeded)
    assert found.count("expired_lot") == 2  # taken by the rule when nothing else was left, named
    assert "negative_stock" in found  # X went below zero: really short, so flagged
    refund = {"refund_id": "R-1", "register": register, "sale_id": first.sale_id}
    ok(client.post(f"{API}/pos/refunds", json={**refund, "lines": [{"line_no": 2, "qty": "1"}]}))
    assert lots(client, register)["A"] == "1"  # the named lot's unit came back into A


@pytest.mark.mosquitto
def test_an_edge_sale_of_lot_goods_opens_no_false_negative_stock(
    client: TestClient, seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    register = store(client, site)
    book = pricing.PriceBook.from_dict(
        ok(client.get(f"{API}/pos/price-book", params={"site": site}), 200)
    )
    done = scan_sale(book, "QTY:2", MILK[1:], "PAY:CASH")
    publisher = ResendingPublisher(*mosquitto, site, "till-1")
    try:
        data = done.data(register, 1, "ann").model_dump(mode="json", by_alias=True)
        publisher.publish(1, sale_event(site, 1, data))
        assert publisher.wait_all_acked(1, 20)
    finally:
        publisher.close()
    wait_for(lambda: client.get(f"{API}/pos/sales/{done.sale_id}").status_code == 200)
    assert lots(client, register) == {"A": "5", "B": "3", "X": "3"}
    assert kinds(seeded) == []
