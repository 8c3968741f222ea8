"""Units and packs on SQLite and PostgreSQL: a product's packaging levels (inner, case, pallet)
with their own GTINs; a case scanned at the dock receives its base units, the quantity label
multiplies cases, the each GTIN still moves one; pack codes are checked like GTINs and belong
to one product; and through the real broker, a case scan and a pallet's SSCC with its advance
shipping notice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import ResendingPublisher, admin_headers, movement_payload, wait_for
from tests.integration.pos_fixtures import ok
from tests.integration.test_orders import Floor, on_hand
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.catalog.domain import gs1_check_digit

EACH = "4006381333931"


def gtin14(indicator: int, each: str = EACH) -> str:
    """The GTIN-14 of a packaging level: an indicator digit before the each's first 12 digits."""
    body = f"{indicator}{each.zfill(13)[:12]}"
    return body + str(gs1_check_digit(body))


CASE, PALLET = gtin14(1), gtin14(5)
PRODUCT: dict[str, Any] = {
    "sku": "BEAN-1",
    "name": "Beans 400 g",
    "gtins": [EACH],
    "packs": [
        {"level": "case", "gtin": CASE, "qty": "12"},
        {"level": "pallet", "gtin": PALLET, "qty": "480"},
    ],
}


@pytest.fixture
def api(seeded: Service) -> TestClient:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    ok(client.post("/api/v1/products", json=PRODUCT))
    return client


def test_a_case_scan_receives_its_base_units(seeded: Service, api: TestClient) -> None:
    shown = ok(api.get("/api/v1/products/BEAN-1"), 200)
    assert shown["gtins"] == ["0" + EACH]
    assert [(p["level"], p["gtin"], p["qty"]) for p in shown["packs"]] == [
        ("case", CASE, "12"),
        ("pallet", PALLET, "480"),
    ]
    floor = Floor(seeded)
    assert floor.receive(CASE).applied == 1
    assert floor.receive(CASE, qty=2).applied == 1  # a QTY:2 label before it: two cases
    assert floor.receive(EACH).applied == 1
    assert floor.receive(f"01{PALLET}10L7").applied == 1  # a pallet label with its lot
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "BEAN-1", "WH1-DOCK-1") == (12 + 24 + 1 + 480, 0)
    listed = ok(api.get("/api/v1/products", params={"q": "BEAN"}), 200)["items"]
    assert listed[0]["packs"] == shown["packs"]


@pytest.mark.parametrize(
    ("packs", "status", "field"),
    [
        ([{"level": "case", "gtin": CASE[:-1] + "0", "qty": "12"}], 422, "packs.0.gtin"),
        ([{"level": "case", "gtin": CASE, "qty": "1.5"}], 422, "packs.0.qty"),
        ([{"level": "case", "gtin": EACH, "qty": "6"}], 422, "packs.0.gtin"),
        ([{"level": "crate", "gtin": CASE, "qty": "6"}], 422, "packs.0.level"),
        ([{"level": "case", "gtin": gtin14(1, "5901234123457"), "qty": "6"}], 201, None),
    ],
)
def test_pack_codes_are_checked_and_belong_to_one_product(
    api: TestClient, packs: list[dict[str, str]], status: int, field: str | None
) -> None:
    body = {"sku": "BEAN-2", "name": "Beans 800 g", "gtins": [EACH], "packs": packs}
    if status == 201:  # the each GTIN is BEAN-1's: another product takes another
        body["gtins"] = []
    answer = api.post("/api/v1/products", json=body)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["field"] == field
    taken = api.post("/api/v1/products", json={**body, "sku": "BEAN-3", "gtins": []})
    if status == 201:
        assert (taken.status_code, taken.json()["field"]) == (409, "packs")


@pytest.mark.mosquitto
def test_case_and_pallet_scans_through_the_broker(
    seeded: Service, api: TestClient, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    sscc = "106141411234567897"
    order = {"ref": "PO-PAL", "site": "WH1", "supplier": "Beans Ltd",
             "lines": [{"sku": "BEAN-1", "qty": "480"}],
             "packages": {sscc: [{"sku": "BEAN-1", "qty": "480"}]}}  # fmt: skip
    ok(api.post("/api/v1/purchase-orders", json=order))
    publisher = ResendingPublisher(*mosquitto, site, "dock-9")
    try:
        for seq, code in ((1, "00" + sscc), (2, CASE)):  # the pallet, then a case beyond it
            publisher.publish(
                seq, movement_payload(site, "dock-9", seq, code=code, lot=None, qty=1)
            )
            assert publisher.wait_all_acked(seq, timeout=30)
    finally:
        publisher.close()

    def received() -> Decimal:
        with seeded.engine.connect() as conn:
            return on_hand(conn, "BEAN-1", "WH1-DOCK-1")[0]

    wait_for(lambda: received() == 12 + 480, timeout=10)
    shown = ok(api.get("/api/v1/purchase-orders/PO-PAL"), 200)
    assert shown["lines"][0]["received"] == "480"


def test_weighed_goods_keep_their_unit_and_convert_only_within_it(
    seeded: Service, api: TestClient
) -> None:
    """Apples are kept in kg to the gram: a receipt in grams converts, one in metres is refused
    on its unit, one finer than a gram on its qty; a scale's label (AI 3103, net kg) moves what
    it weighed."""
    receipt = {"kind": "receive", "sku": "APL-RED", "to_location": "WH1-DOCK-1"}
    ok(api.post("/api/v1/movements", json={**receipt, "qty": "1250", "unit": "g"}))
    wrong = api.post("/api/v1/movements", json={**receipt, "qty": "2", "unit": "m"})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "unit")
    assert "m (length) does not convert to kg (mass)" in wrong.json()["detail"]
    fine = api.post("/api/v1/movements", json={**receipt, "qty": "0.0005"})
    assert (fine.status_code, fine.json()["field"]) == (422, "qty")
    assert Floor(seeded).receive("0105901230001285" + "3103001875").applied == 1  # 1.875 kg
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "APL-RED", "WH1-DOCK-1") == (Decimal("3.125"), 0)


def test_a_case_counted_by_scan_counts_its_units(seeded: Service, api: TestClient) -> None:
    from tests.integration.test_api_counts import scan

    ok(api.post("/api/v1/counts", json={"ref": "CNT-P", "location": "WH1-A"}))
    scan(seeded, CASE, "WH1-A-01")
    told = scan(seeded, CASE, "WH1-A-01")
    assert [f.text for f in told.feedback] == ["CNT-P: 24 x BEAN-1 at WH1-A-01"]
    lines = ok(api.get("/api/v1/counts/CNT-P"), 200)["lines"]
    assert [(x["sku"], x["counted"]) for x in lines if x["sku"] == "BEAN-1"] == [("BEAN-1", "24")]
