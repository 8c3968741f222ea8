"""The pricing table through the service's API and through the edge register into the ingest:
the same basket gives the same cents on every path, and a register's sale priced like the
service's raises no ``price_mismatch``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import admin_headers, events_topic
from tests.integration.pos_fixtures import ok
from tests.pricing_table import CASES, CHEESE_CODE, DELI_CODE, ITEMS, PROMOTIONS, TAX_RATES, Case
from warehouse import pricing
from warehouse.app import create_app
from warehouse.bootstrap import Service
from warehouse.exceptions.adapters import tables
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate
from warehouse_edge.register import Register

VARIABLE = {DELI_CODE: ("DELI", "se"), CHEESE_CODE: ("CHEESE", "fi")}


def store(client: TestClient, site: str, case: Case) -> str:
    """A site priced like the table's book for ``case``, with an open register; its code."""
    register = f"{site}-REG"
    ok(client.post("/api/v1/locations", json={"code": site, "name": site, "kind": "site"}))
    ok(
        client.post(
            "/api/v1/locations",
            json={"code": register, "name": "till", "kind": "register", "parent_code": site},
        )
    )
    for category, rate in TAX_RATES.items():
        body = {
            "site": site,
            "category": category,
            "rate_percent": rate,
            "valid_from": "2020-01-01",
        }
        ok(client.post("/api/v1/pos/tax-rates", json=body))
    prices = [{k: item[k] for k in ("sku", "unit_price_minor", "tax_category")} for item in ITEMS]
    ok(
        client.post(
            "/api/v1/pos/price-lists",
            json={
                "site": site,
                "name": "table",
                "currency": "EUR",
                "tax_inclusive": not case.exclusive,
                "cash_step_minor": 5,
                "prices": prices,
            },
        )
    )
    for code in case.promotions:
        body = {"site": site, **PROMOTIONS[code], "valid_from": "2020-01-01"}
        ok(client.post("/api/v1/pos/promotions", json=body))
    ok(client.post("/api/v1/pos/registers", json={"location": register}))
    for item in ITEMS:
        receipt = {"kind": "receive", "sku": item["sku"], "qty": "50", "to_location": register}
        ok(client.post("/api/v1/movements", json=receipt))
    ok(client.post(f"/api/v1/pos/registers/{register}/sessions", json={"float_minor": 0}))
    return register


def api_body(case: Case, register: str) -> dict[str, Any]:
    lines = []
    for x in case.lines:
        line: dict[str, Any] = {"sku": x.sku or VARIABLE[x.code or ""][0], "qty": str(x.qty)}
        for key, value in (
            ("discount_percent", x.discount_percent),
            ("discount_amount_minor", x.discount_amount_minor),
            ("unit_price_override_minor", x.override_minor),
            ("embedded_price_minor", x.embedded_price_minor),
        ):
            if value is not None:
                line[key] = str(value) if isinstance(value, Decimal) else value
        lines.append(line)
    body: dict[str, Any] = {
        "sale_id": f"api-{register}",
        "register": register,
        "lines": lines,
        "tenders": [{"kind": k, "amount_minor": a} for k, a in case.tenders],
    }
    if case.basket_percent is not None:
        body["basket_discount_percent"] = str(case.basket_percent)
    if case.basket_amount is not None:
        body["basket_discount_amount_minor"] = case.basket_amount
    return body


def money(minor: int) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f}"


def scans(case: Case) -> list[str]:
    """What a cashier scans at the edge register to ring ``case`` up."""
    gtin = {str(i["sku"]): i["codes"][0][1:] for i in ITEMS}  # type: ignore[index]
    out = []
    for x in case.lines:
        if x.code is None and x.qty != 1:
            out.append(f"QTY:{x.qty}")
        out.append(x.code or gtin[x.sku or ""])
        if x.discount_percent is not None:
            out.append(f"DISC:{x.discount_percent}%")
        if x.discount_amount_minor is not None:
            out.append(f"DISC:{money(x.discount_amount_minor)}")
        if x.override_minor is not None:
            out += ["MGR:card-7", f"PRICE:{money(x.override_minor)}"]
    if case.basket_percent is not None:
        out.append(f"BDISC:{case.basket_percent}%")
    if case.basket_amount is not None:
        out.append(f"BDISC:{money(case.basket_amount)}")
    out += [f"PAY:{kind.upper()}:{money(amount)}" for kind, amount in case.tenders]
    return out


def sale_event(site: str, seq: int, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "event_id": str(uuid.uuid4()),
            "agent_id": "till-1",
            "site": site,
            "seq": seq,
            "boot": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "type": "sale",
            "device": "scanner-1",
            "station": "pos",
            "data": data,
        }
    ).encode()


def test_the_table_to_the_cent_through_the_api_and_the_edge_register(seeded: Service) -> None:
    client = TestClient(create_app(service=seeded), headers=admin_headers(seeded))
    for sku, unit in (("DELI", "ea"), ("CHEESE", "kg")):
        item = next(i for i in ITEMS if i["sku"] == sku)
        product = {"sku": sku, "name": sku.title(), "unit": unit, "gtins": item["codes"]}
        ok(client.post("/api/v1/products", json=product))
    for n, case in enumerate(CASES, start=1):
        site = f"P{n:02}"
        register = store(client, site, case)
        # the service's path: the API prices the basket itself
        done = ok(client.post("/api/v1/pos/sales", json=api_body(case, register)))
        receipt = done["receipt"]
        got = (receipt["total_minor"], receipt["change_minor"], receipt["rounding_minor"])
        assert got == (case.total, case.change, case.rounding), case.name
        taxes = [(t["rate"], t["tax_minor"]) for t in receipt["taxes"]]
        assert taxes == list(case.taxes), case.name
        # the edge's path: scans at the register, with the book the service publishes
        book = pricing.PriceBook.from_dict(
            ok(client.get("/api/v1/pos/price-book", params={"site": site}), 200)
        )
        region = next((VARIABLE[x.code][1] for x in case.lines if x.code), None)
        till = Register(book, rcn_region=region, manager_cards=frozenset({"card-7"}))
        outcomes = [till.read(code) for code in scans(case)]
        assert all(o.level != "error" for o in outcomes), (case.name, outcomes)
        completed = outcomes[-1].completed
        assert completed is not None, (case.name, outcomes)
        paid = completed.settlement
        got = (completed.basket.total_minor, paid.change_minor, paid.rounding_minor)
        assert got == (case.total, case.change, case.rounding), case.name
        taxes = [(pricing.plain(t.rate), t.tax_minor) for t in completed.basket.taxes]
        assert taxes == list(case.taxes), case.name
        # ... and the service prices the register's sale again: the same cents, no mismatch
        data = completed.data(register, 2, "cashier-1").model_dump(mode="json", by_alias=True)
        items = [translate(events_topic(site, "till-1"), sale_event(site, n, data), 256 * 1024)]
        result = ingest_batch(seeded.uow(), seeded.catalog, items, datetime.now(UTC))
        assert (result.applied, result.rejected) == (len(case.lines), 0), (case.name, result)
        recorded = ok(client.get(f"/api/v1/pos/sales/{completed.sale_id}"), 200)
        assert recorded["total_minor"] == case.total, case.name
        with seeded.engine.connect() as conn:
            problems = conn.execute(
                select(tables.floor_exceptions.c.detail).where(
                    tables.floor_exceptions.c.site == site
                )
            ).all()
        assert problems == [], (case.name, problems)
