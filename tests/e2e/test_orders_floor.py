"""The orders scenario end to end: an edge agent process with four pty scanners (dock, pick,
ship and count stations) on the real Mosquitto, the ingest worker, and the API.

A purchase order is received with one line short, one unexpected item and one package by its
SSCC; a sales order is reserved, picked by scan with a wrong item first (the picker's scanner
gets the service's ``error``), packed on an SSCC and shipped by scanning it; part of it comes
back; a cycle count's variance is approved; an unknown code is linked from the queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_edge_agent import Scanner, start_agent, stop_agent, wait_log
from tests.helpers import admin_headers
from warehouse.app import create_app
from warehouse.bootstrap import Service

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
TEA, PASTA, RICE, WATER = "5901230001025", "5901230001087", "5901230001094", "5901230001070"
STRANGER = "4006381333931"  # a valid GTIN no product has
ASN = "106141411234567897"
FEEDBACK = '{ ok = "06", error = "15" }'
STATIONS = {  # station: (mode, location, extra)
    "dock": ("receiving", "WH1-DOCK-1", ""),
    "pick": ("picking", "WH1-PACK", ""),
    "ship": ("shipping", "WH1-SHIP", ""),
    "count": ("counting", "WH1-B-01", "count_by_repeat = true"),
}


def config(tmp_path: Path, site: str, port: int, scanners: dict[str, Scanner]) -> Path:
    text = f"""
agent_id = "floor-1"
site = "{site}"
heartbeat_s = 3600

[broker]
url = "mqtt://127.0.0.1:{port}"

[outbox]
path = "{tmp_path / "outbox.db"}"
"""
    for name, (mode, location, extra) in STATIONS.items():
        text += f"""
[[stations]]
name = "{name}"
mode = "{mode}"
location = "{location}"
debounce_ms = 0
{extra}

[[devices]]
name = "{name}-scanner"
driver = "serial"
station = "{name}"
params = {{ port = "{scanners[name].link}", terminator = "CRLF", feedback = {FEEDBACK} }}
"""
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_receive_pick_pack_ship_return_count_and_link(
    seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int], tmp_path: Path
) -> None:
    api = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    scanners = {name: Scanner(tmp_path / f"{name}-scanner") for name in STATIONS}
    log = tmp_path / "agent.log"
    agent = start_agent(config(tmp_path, site, mosquitto[1], scanners), log)

    def told(level: str, station: str, text: str) -> None:
        wait_log(log, f"feedback {level} to {station}-scanner: {text}", 1)

    def scan(station: str, *codes: str) -> None:
        for code in codes:
            assert scanners[station].scan(code, timeout=10), f"{station} did not answer {code}"

    def stock(sku: str, location: str) -> Decimal:
        rows = api.get(
            "/api/v1/stock", params={"sku": sku, "location": location, "include_virtual": True}
        ).json()["items"]
        return sum((Decimal(r["on_hand"]) for r in rows), Decimal(0))

    try:
        wait_log(log, "connected to the broker", 1)
        for name in STATIONS:
            wait_log(log, f"device {name}-scanner is up", 1)
        # --- receiving: PO-100 with an advance shipping notice --------------------------------
        assert (
            api.post(
                "/api/v1/purchase-orders",
                json={
                    "ref": "PO-100",
                    "site": "WH1",
                    "supplier": "Tea Traders",
                    "lines": [
                        {"sku": "TEA-GRN", "qty": "10"},
                        {"sku": "PST-500", "qty": "5"},
                        {"sku": "RIC-1K", "qty": "4"},
                    ],
                    "packages": {ASN: [{"sku": "RIC-1K", "qty": "4"}]},
                },
            ).status_code
            == 201
        )
        scan("dock", "PO-100", "QTY:10", TEA)
        told("ok", "dock", "PO-100 line 1: 10 of 10")
        scan("dock", "QTY:3", PASTA)
        told("ok", "dock", "PO-100 line 2: 3 of 5")
        scan("dock", "QTY:2", WATER)
        told("warn", "dock", "unexpected: WTR-6 is not on PO-100")
        scan("dock", "00" + ASN)
        told("ok", "dock", f"package {ASN}: 1 lines received for PO-100")
        scan("dock", STRANGER)
        told("error", "dock", f"code '{STRANGER}'")
        closed = api.post("/api/v1/purchase-orders/PO-100/close").json()
        assert (closed["order"]["status"], closed["short_lines"]) == ("closed", 1)
        # --- put away, then a sales order -------------------------------------------------------
        assert (
            api.post(
                "/api/v1/movements",
                json={
                    "kind": "transfer",
                    "sku": "TEA-GRN",
                    "qty": "10",
                    "from_location": "WH1-DOCK-1",
                    "to_location": "WH1-A-01",
                },
            ).status_code
            == 201
        )
        assert (
            api.post(
                "/api/v1/sales-orders",
                json={
                    "ref": "SO-200",
                    "site": "WH1",
                    "customer": "Corner Cafe",
                    "lines": [{"sku": "TEA-GRN", "qty": "4"}],
                },
            ).status_code
            == 201
        )
        assert api.post("/api/v1/sales-orders/SO-200/confirm").json()["status"] == "confirmed"
        scan("pick", "SO-200", "LOC:WH1-A-01", PASTA)  # the wrong item first
        told("error", "pick", "PST-500 is not on SO-200")
        scan("pick", "QTY:4", TEA)
        told("ok", "pick", "SO-200 line 1: 4 of 4 picked")
        package = api.post("/api/v1/sales-orders/SO-200/packages").json()
        sscc = package["sscc"]
        scan("ship", "00" + sscc)
        told("ok", "ship", f"SO-200: package {sscc} shipped")
        wait_until(
            lambda: api.get("/api/v1/sales-orders/SO-200").json()["status"] == "shipped",
            "SO-200 was not shipped",
        )
        # --- a partial return -------------------------------------------------------------------
        back = api.post(
            "/api/v1/returns",
            json={
                "ref": "RMA-300",
                "order_ref": "SO-200",
                "location": "WH1-DOCK-2",
                "lines": [
                    {
                        "sku": "TEA-GRN",
                        "qty": "1",
                        "disposition": "restock",
                        "to_location": "WH1-A-01",
                    }
                ],
            },
        )
        assert back.status_code == 201, back.text
        # --- a cycle count of WH1-B-01, where 2 WTR-6 were put away and 3 are counted ------------
        assert (
            api.post(
                "/api/v1/movements",
                json={
                    "kind": "transfer",
                    "sku": "WTR-6",
                    "qty": "2",
                    "from_location": "WH1-DOCK-1",
                    "to_location": "WH1-B-01",
                },
            ).status_code
            == 201
        )
        assert (
            api.post("/api/v1/counts", json={"ref": "CNT-400", "location": "WH1-B-01"}).status_code
            == 201
        )
        scan("count", WATER, WATER, WATER)
        told("ok", "count", "CNT-400: 3 x WTR-6 at WH1-B-01")
        approved = api.post("/api/v1/counts/CNT-400/approve").json()
        assert (approved["status"], len(approved["movement_ids"])) == ("approved", 1)
        # --- the unknown code, linked from the queue ---------------------------------------------
        queue = api.get("/api/v1/exceptions").json()["items"]
        (unknown,) = [x for x in queue if x["kind"] == "unknown_code"]
        assert unknown["code"] == STRANGER
        linked = api.post(
            f"/api/v1/exceptions/{unknown['id']}/resolve",
            json={"resolution": "link_code", "sku": "TEA-GRN"},
        )
        assert len(linked.json()["movement_ids"]) == 1
    finally:
        stop_agent(agent)
        for scanner in scanners.values():
            scanner.close()

    assert stock("TEA-GRN", "WH1-A-01") == 7  # 10 put away, 4 shipped, 1 restocked
    assert stock("TEA-GRN", "WH1-DOCK-1") == 1  # the linked stranger
    assert stock("TEA-GRN", "CUSTOMER") == 3
    assert stock("PST-500", "WH1-DOCK-1") == 3
    assert stock("RIC-1K", "WH1-DOCK-1") == 4
    assert stock("WTR-6", "WH1-B-01") == 3
    assert stock("WTR-6", "WH1-DOCK-1") == 0
    assert api.get("/api/v1/stock/TEA-GRN").json()["reserved"] == "0"
    statuses = {o["ref"]: o["status"] for o in api.get("/api/v1/sales-orders").json()["items"]}
    assert statuses == {"SO-200": "shipped"}
    assert api.get("/api/v1/purchase-orders/PO-100").json()["packages"] == [
        {"sscc": ASN, "status": "received"}
    ]
    kinds = sorted(x["kind"] for x in api.get("/api/v1/exceptions").json()["items"])
    assert kinds == ["short_receipt", "unexpected_item", "wrong_item"]
    resolved = api.get("/api/v1/exceptions", params={"status": "resolved"}).json()["items"]
    assert [x["kind"] for x in resolved] == ["unknown_code"]
    errors = log.read_text().count("feedback error to")
    assert errors == 2, log.read_text()[-3000:]  # the stranger at the dock, the wrong pick
