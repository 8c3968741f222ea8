"""The GS1 Digital Link resolver and the locations' GS1 keys, on SQLite and PostgreSQL: each
key (GTIN, pack GTIN, lot, serial, GLN with and without extension, SSCC) resolved to what it
names, with the answer a program, a linkset reader and a browser each ask for; bad keys refused
by field; strangers and other sites' users refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import admin_headers, token_for
from tests.integration.pos_fixtures import ok
from warehouse.app import create_app
from warehouse.bootstrap import Service

API = "/api/v1"
TEA13, TEA14 = "5901230001025", "05901230001025"  # TEA-GRN
MILK = "05901230001049"  # MLK-1L, by lot
PHONES = "05901230001254"  # HDP-BT, by serial
CASE = "15901230001022"  # a case of 12 TEA-GRN, indicator 1
GLN, OTHER_GLN = "5412345000013", "4000001000005"
ASN = "106141411234567897"
JSON = {"Accept": "application/json"}


@pytest.fixture
def api(seeded: Service) -> TestClient:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    tea = ok(client.get(f"{API}/products/TEA-GRN"), 200)
    tea["packs"] = [{"level": "case", "gtin": CASE, "qty": "12"}]
    body = {k: v for k, v in tea.items() if k != "sku"}
    ok(client.put(f"{API}/products/TEA-GRN", json=body), 200)
    for code, qty, where in (
        (f"(01){TEA14}", 30, "WH1-DOCK-1"),
        (f"(01){TEA14}", 4, "ST1-BACK"),
        (f"(01){MILK}(10)L/7(17)271231", 6, "WH1-DOCK-1"),
        (f"(01){PHONES}(21)SN-1", 1, "ST1-BACK"),
    ):
        receipt = {"kind": "receive", "code": code, "qty": str(qty), "to_location": where}
        ok(client.post(f"{API}/movements", json=receipt))
    return client


def set_gln(api: TestClient, code: str, gln: str | None, extension: str | None = None) -> object:
    here = ok(api.get(f"{API}/locations/{code}"), 200)
    body = {"name": here["name"], "kind": here["kind"], "gln": gln, "gln_extension": extension}
    return api.put(f"{API}/locations/{code}", json=body)


def test_a_gtin_in_any_length_names_the_product_and_its_stock_per_site(api: TestClient) -> None:
    for gtin in (TEA13, TEA14):
        answer = api.get(f"/01/{gtin}", headers=JSON)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["anchor"] == f"http://testserver/01/{TEA14}"
        assert (body["kind"], body["item"]["sku"], body["item"]["pack"]) == (
            "product",
            "TEA-GRN",
            None,
        )
        assert {r["site"]: r["on_hand"] for r in body["item"]["stock"]} == {"WH1": "30", "ST1": "4"}
        first = body["links"][0]
        assert (first["linkType"], first["href"]) == (
            "gs1:pip",
            "http://testserver/products/TEA-GRN",
        )
        assert answer.headers["link"] == (
            f'<http://testserver/01/{TEA14}?linkType=all>; rel="linkset"; '
            'type="application/linkset+json"'
        )
    case = ok(api.get(f"/01/{CASE}", headers=JSON), 200)
    assert case["item"]["sku"] == "TEA-GRN"
    assert case["item"]["pack"] == {"level": "case", "qty": "12"}


def test_a_lot_and_a_serial_name_their_stock_and_their_unit(api: TestClient) -> None:
    lot = ok(api.get(f"/01/{MILK}/10/L%2F7", headers=JSON), 200)
    assert lot["anchor"] == f"http://testserver/01/{MILK}/10/L%2F7"
    assert lot["item"]["lot"]["expiry"] == "2027-12-31"
    assert lot["item"]["stock"] == [
        {"site": "WH1", "location": "WH1-DOCK-1", "on_hand": "6", "reserved": "0"}
    ]
    assert lot["links"][0]["href"] == "http://testserver/stock?q=MLK-1L&lot=L%2F7"
    unit = ok(api.get(f"/01/{PHONES}/21/SN-1", headers=JSON), 200)
    assert unit["kind"] == "serial"
    assert set(unit["item"]) == {"sku", "name", "unit", "category", "gtin", "pack", "serial_unit"}
    assert {k: unit["item"]["serial_unit"][k] for k in ("serial", "location", "site")} == {
        "serial": "SN-1", "location": "ST1-BACK", "site": "ST1"
    }  # fmt: skip
    for missing in (f"/01/{MILK}/10/NOPE", f"/01/{PHONES}/21/SN-9", "/01/4000001000005"):
        refused = api.get(missing, headers=JSON)
        assert refused.status_code == 404, (missing, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"


def test_locations_carry_a_gln_and_an_extension_and_resolve_by_them(api: TestClient) -> None:
    assert set_gln(api, "WH1", GLN).status_code == 200  # type: ignore[attr-defined]
    assert set_gln(api, "WH1-DOCK-1", GLN, "DOCK-1").status_code == 200  # type: ignore[attr-defined]
    site = ok(api.get(f"/414/{GLN}", headers=JSON), 200)
    assert (site["item"]["code"], site["item"]["gln_extension"]) == ("WH1", None)
    dock = ok(api.get(f"/414/{GLN}/254/DOCK-1", headers=JSON), 200)
    assert (dock["item"]["code"], dock["item"]["site"]) == ("WH1-DOCK-1", "WH1")
    assert dock["links"][0]["href"] == "http://testserver/stock?location=WH1-DOCK-1"
    listed = ok(api.get(f"{API}/locations", params={"under": "WH1-DOCK-1"}), 200)["items"][0]
    assert (listed["gln"], listed["gln_extension"]) == (GLN, "DOCK-1")
    taken = set_gln(api, "ST1", GLN)  # the pair names one location
    assert taken.status_code == 409, taken.text  # type: ignore[attr-defined]
    for gln, extension, field in (
        ("5412345000010", None, "gln"),  # check digit
        (None, "DOCK-1", "gln_extension"),  # an extension needs a GLN
        (OTHER_GLN, "DOCK 1", "gln_extension"),  # a space is not in set 82
    ):
        refused = set_gln(api, "ST1", gln, extension)
        assert refused.status_code == 422, refused.text  # type: ignore[attr-defined]
        assert field in refused.text  # type: ignore[attr-defined]
    assert set_gln(api, "WH1-DOCK-1", None).status_code == 200  # type: ignore[attr-defined]
    assert api.get(f"/414/{GLN}/254/DOCK-1", headers=JSON).status_code == 404


def test_an_sscc_names_its_package(api: TestClient) -> None:
    order = {"ref": "PO-9", "site": "WH1", "supplier": "Tea Traders",
             "lines": [{"sku": "TEA-GRN", "qty": "10"}],
             "packages": {ASN: [{"sku": "TEA-GRN", "qty": "10"}]}}  # fmt: skip
    ok(api.post(f"{API}/purchase-orders", json=order))
    package = ok(api.get(f"/00/{ASN}", headers=JSON), 200)
    assert (package["kind"], package["item"]["status"], package["item"]["site"]) == (
        "package", "expected", "WH1"
    )  # fmt: skip
    assert package["links"][0]["href"] == f"http://testserver/api/v1/packages/{ASN}"


def test_programs_linkset_readers_and_browsers_each_get_their_answer(api: TestClient) -> None:
    linkset = api.get(f"/01/{TEA13}", headers={"Accept": "application/linkset+json"})
    assert linkset.headers["content-type"] == "application/linkset+json"
    (entry,) = linkset.json()["linkset"]
    assert entry["anchor"] == f"http://testserver/01/{TEA14}"
    assert entry["https://gs1.org/voc/defaultLink"][0]["href"] == (
        "http://testserver/products/TEA-GRN"
    )
    assert "https://gs1.org/voc/masterData" in entry
    assert api.get(f"/01/{TEA13}", params={"linkType": "all"}).json() == linkset.json()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = api.get(f"/01/{TEA13}", headers={"Accept": browser}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (
        307, "http://testserver/products/TEA-GRN"
    )  # fmt: skip
    for anything in ("*/*", "text", "image/png"):  # anything, garbled, nothing offered: JSON
        assert api.get(f"/01/{TEA13}", headers={"Accept": anything}).json()["kind"] == "product"
    data = api.get(f"/01/{TEA13}", params={"linkType": "gs1:masterData"}, follow_redirects=False)
    assert data.headers["location"] == "http://testserver/api/v1/products/TEA-GRN"
    unknown = api.get(f"/01/{TEA13}", params={"linkType": "gs1:recipeInfo"})
    assert unknown.status_code == 404
    assert "gs1:masterData" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/01/5901230001026", "01"),  # check digit
        ("/01/59012300010", "01"),  # eleven digits
        ("/01/ABCDEFGHIJKLM", "01"),
        (f"/01/{TEA13}/10/{'L' * 21}", "10"),
        (f"/01/{TEA13}/21/SN%201", "21"),
        ("/414/5412345000010", "414"),
        ("/00/106141411234567890", "00"),
    ],
)
def test_a_malformed_key_is_refused_naming_its_part(api: TestClient, path: str, field: str) -> None:
    refused = api.get(path, headers=JSON)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field


def test_strangers_are_refused_and_users_see_their_sites_only(
    seeded: Service, api: TestClient
) -> None:
    stranger = TestClient(create_app(service=seeded))
    assert stranger.get(f"/01/{TEA13}", headers=JSON).status_code == 401
    signin = stranger.get(f"/01/{TEA13}", headers={"Accept": "text/html"})
    assert signin.status_code == 401
    assert signin.headers["content-type"].startswith("text/html")
    store = {"Authorization": f"Bearer {token_for(seeded, 'staff@ST1')}"}
    mine = ok(api.get(f"/01/{TEA13}", headers={**JSON, **store}), 200)
    assert [r["site"] for r in mine["item"]["stock"]] == ["ST1"]
    assert set_gln(api, "WH1-DOCK-1", GLN, "D1").status_code == 200  # type: ignore[attr-defined]
    assert api.get(f"/414/{GLN}/254/D1", headers={**JSON, **store}).status_code == 403
