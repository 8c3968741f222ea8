"""Labels on SQLite and PostgreSQL, read back by a barcode library (zxing-cpp) from what they
print: the PDF rendered to pixels, the ZPL's graphics decoded; a product's, a case's and a
subtree of shelves'. A shelf label read at a putaway station moves the next item there; labels
go to a network label printer on its raw port (a listener on loopback here)."""

from __future__ import annotations

import re
import socket
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok
from tests.integration.test_orders import Floor, on_hand
from tests.integration.test_packs import CASE, PRODUCT
from warehouse.app import create_app
from warehouse.bootstrap import Service, bootstrap
from warehouse_edge.config import Station
from warehouse_edge.profiles import StationState, interpret


def read_pdf(body: bytes) -> list[list[tuple[str, str]]]:
    """Per page, what zxing-cpp reads: (text, AIM symbology identifier)."""
    import pypdfium2
    import zxingcpp

    pages = []
    for page in pypdfium2.PdfDocument(body):
        image = page.render(scale=300 / 72).to_pil()
        pages.append(
            sorted((r.text, r.symbology_identifier) for r in zxingcpp.read_barcodes(image))
        )
    return pages


def read_zpl(text: str) -> list[tuple[str, str]]:
    """What zxing-cpp reads in each ``^GFA`` graphic of ZPL (1 bits are black)."""
    import zxingcpp
    from PIL import Image, ImageOps

    found = []
    for m in re.finditer(r"\^GFA,(\d+),\d+,(\d+),([0-9A-F]+)\^FS", text):
        total, per_row = int(m[1]), int(m[2])
        bits = Image.frombytes("1", (per_row * 8, total // per_row), bytes.fromhex(m[3]))
        image = ImageOps.expand(ImageOps.invert(bits.convert("L")), 20, fill=255)
        found += [(r.text, r.symbology_identifier) for r in zxingcpp.read_barcodes(image)]
    return sorted(found)


@pytest.fixture
def api(seeded: Service) -> TestClient:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    ok(client.post("/api/v1/products", json=PRODUCT))
    return client


def test_a_product_label_reads_back_as_its_element_strings(api: TestClient) -> None:
    params = {"lot": "L2026-11", "expiry": "2027-03-31"}
    want = "(01)05901230001001(10)L2026-11(17)270331"
    pdf = api.get("/api/v1/labels/products/COF-250", params={**params, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert read_pdf(pdf.content) == [[(want, "]C1"), (want, "]d2")]]  # GS1-128, GS1 DataMatrix
    zpl = api.get("/api/v1/labels/products/COF-250", params={**params, "copies": "3"}).text
    assert zpl.startswith("^XA")
    assert "^PQ3" in zpl
    assert "Coffee beans 250 g" in zpl
    assert read_zpl(zpl) == [(want, "]C1"), (want, "]d2")]
    case = api.get("/api/v1/labels/products/BEAN-1", params={"pack": "case", "format": "pdf"})
    assert read_pdf(case.content) == [[(f"(01){CASE}", "]C1"), (f"(01){CASE}", "]d2")]]
    for params_, status, field in (
        ({"pack": "inner"}, 404, "pack"),
        ({"lot": "Lé 1"}, 422, "lot"),
        ({"lot": "L" * 21}, 422, "lot"),
        ({"expiry": "2027-02-30"}, 422, None),
    ):
        wrong = api.get("/api/v1/labels/products/BEAN-1", params=params_)
        assert wrong.status_code == status
        if field:
            assert wrong.json()["field"] == field


def test_shelf_labels_of_a_subtree_set_a_stations_location(
    seeded: Service, api: TestClient
) -> None:
    aisle = api.get("/api/v1/labels/locations/WH1-A", params={"subtree": "true", "format": "pdf"})
    pages = read_pdf(aisle.content)
    bins = [r["code"] for r in ok(api.get("/api/v1/locations", params={"limit": 500}), 200)["items"]
            if r["code"].startswith("WH1-A")]  # fmt: skip
    assert [page[0][0] for page in pages] == [f"LOC:{code}" for code in sorted(bins)]
    assert all({s for _, s in page} == {"]C0", "]d1"} for page in pages)  # Code 128, Data Matrix
    (shelf,) = [p for p in pages if p[0][0] == "LOC:WH1-A-01"]
    station = Station(name="putaway-1", mode="putaway", location="WH1-DOCK-1")
    state = StationState("putaway")
    assert interpret(station, state, shelf[0][0]).text == "location WH1-A-01"
    Floor(seeded).receive("5901230001025")  # a green tea at the dock
    label = api.get("/api/v1/labels/products/TEA-GRN", params={"format": "pdf"})
    (scanned, _) = read_pdf(label.content)[0][0]
    (movement,) = interpret(station, state, scanned).messages
    data = movement.model_dump(mode="json", exclude_none=True)
    Floor(seeded).send("putaway-1", **{k: v for k, v in data.items() if k != "lot"})
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-A-01")[0] == 1
    virtual = api.get("/api/v1/labels/locations/LOSS")
    assert (virtual.status_code, virtual.json()["field"]) == (404, "code")
    cashier = {"Authorization": f"Bearer {token_for(seeded, 'cashier@ST1', name='cal')}"}
    assert api.get("/api/v1/labels/locations/WH1-A", headers=cashier).status_code == 403


class Printer:
    """A label printer's raw port on loopback: keeps what each connection sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.jobs: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                chunks = []
                while data := conn.recv(65536):
                    chunks.append(data)
                self.jobs.append(b"".join(chunks))

    def close(self) -> None:
        self.sock.close()


def test_labels_print_on_a_configured_printer_only(seeded: Service) -> None:
    printer = Printer()
    closed = socket.create_server(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()
    printers = {"dock": f"127.0.0.1:{printer.port}", "gone": f"127.0.0.1:{dead}"}
    settings: Any = make_settings(seeded.settings.database_url, label_printers=printers)
    service = bootstrap(settings, catalog_ttl=0)
    try:
        api = TestClient(create_app(service=service), headers=admin_headers(service))
        job = {"printer": "dock", "location": {"code": "WH1-A", "subtree": True}, "copies": 2}
        done = ok(api.post("/api/v1/labels/print", json=job), 200)
        assert done["labels"] >= 2
        product = {"printer": "dock", "product": {"sku": "TEA-GRN"}}
        ok(api.post("/api/v1/labels/print", json=product), 200)
        for _ in range(100):
            if len(printer.jobs) == 2:
                break
            threading.Event().wait(0.05)
        assert len(printer.jobs[0]) == done["bytes"]
        assert read_zpl(printer.jobs[1].decode())[0][0] == "(01)05901230001025"
        unknown = api.post("/api/v1/labels/print", json={**product, "printer": "attic"})
        assert (unknown.status_code, unknown.json()["field"]) == (404, "printer")
        down = api.post("/api/v1/labels/print", json={**product, "printer": "gone"})
        assert down.status_code == 503
        assert f"127.0.0.1:{dead}" in down.json()["detail"]
        both = api.post("/api/v1/labels/print", json={**job, **product})
        assert both.status_code == 422
    finally:
        printer.close()
        service.close()
