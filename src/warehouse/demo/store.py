"""The demo's store, ST1: tax rates and a price list for the whole catalog (prices.yaml), its two
registers, the cash a register's open session expects (what the simulated cashier counts at
closing) and a service desk that refunds a recent sale now and then."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from warehouse.bootstrap import Service
from warehouse.core.errors import DomainError
from warehouse.pos.adapters import listings
from warehouse.pos.service import prices, refunds, registers
from warehouse.pos.service.ports import NewPriceList
from warehouse.pos.service.refunds import Disposition, RefundLineRequest, RefundRequest

log = logging.getLogger(__name__)

SITE = "ST1"
PRICE_LIST = "everyday"
REGISTERS = ("ST1-REG-1", "ST1-REG-2")
DESK = "service-desk"


def _prices() -> dict[str, Any]:
    text = (resources.files("warehouse.demo") / "prices.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def open_store(service: Service, now: datetime) -> None:
    """Tax rates, the everyday price list and the registers of ST1, unless already there."""
    with service.uow() as uow:
        if uow.pos.price_list_exists(SITE, PRICE_LIST):
            return
    data = _prices()
    for category, rate in data["tax_rates"].items():
        prices.add_tax_rate(
            service.uow(), SITE, category, Decimal(rate), date(2020, 1, 1), None, "demo", now
        )
    listed = [
        prices.PriceRequest(sku, int(price), category)
        for sku, (price, category) in data["prices"].items()
    ]
    step = int(data["cash_step_minor"])
    head = NewPriceList(SITE, PRICE_LIST, data["currency"], True, step, 0, None, None, [])
    prices.create_price_list(service.uow(), head, listed, "demo", now)
    for code in REGISTERS:
        registers.create_register(service.uow(), service.catalog, code, "demo", now)
    log.info(
        "store %s: price list %r for %d products, tax rates %s, registers %s",
        SITE,
        PRICE_LIST,
        len(listed),
        ", ".join(f"{k} {v} %" for k, v in data["tax_rates"].items()),
        ", ".join(REGISTERS),
    )


def _open_session(service: Service, register: str) -> int | None:
    with service.engine.connect() as conn:
        page = listings.sessions(
            conn, sites=None, register=register, status="open", since=None, until=None,
            limit=1, cursor=None,
        )  # fmt: skip
    return int(page.items[0]["session_id"]) if page.items else None


def cash_expected(service: Service, register: str) -> int | None:
    """The cash the register's open session expects in the drawer, if one is open."""
    session = _open_session(service, register)
    if session is None:
        return None
    return int(registers.x_report(service.uow(), session)["cash_expected_minor"])


def desk_refund(service: Service, register: str, now: datetime) -> str | None:
    """Refund one unit of a recent sale at ``register`` (restocked at the register), as the
    service desk would for a customer who changed their mind; the refund's id, or None when
    there is nothing to refund (or no session open)."""
    with service.engine.connect() as conn:
        recent = listings.sales(
            conn, sites=None, register=register, session_id=None, source="edge", sku=None,
            since=None, until=None, limit=10, cursor=None,
        ).items  # fmt: skip
    for summary in recent:
        with service.uow() as uow:
            sale = uow.pos.sale(summary["sale_id"])
        if sale is None:
            continue
        line = next((x for x in sale.lines if x.product_id and x.qty > x.returned), None)
        if line is None:
            continue
        qty = min(Decimal(1), line.qty - line.returned)
        request = RefundRequest(
            f"desk-{uuid.uuid4().hex[:12]}",
            register,
            [RefundLineRequest(qty, Disposition.RESTOCK, line.line_no)],
            DESK,
            sale.sale_id,
            reason="the customer changed their mind",
        )
        try:
            done = refunds.refund(service.uow(), service.catalog, request, now)
        except DomainError as exc:
            log.debug("the service desk refunded nothing at %s: %s", register, exc)
            return None
        log.info(
            "service desk: refund %s of %s x %s from sale %s at %s (receipt %d)",
            done.refund_id, qty, line.sku, sale.sale_id, register, done.receipt_no,
        )  # fmt: skip
        return done.refund_id
    return None


def summary(service: Service) -> str:
    """What the store sold so far, for the demo's log."""
    with service.engine.connect() as conn:
        sales = listings.sales_count(conn, SITE)
    made, edge, closed = sales["sales"], sales["edge"], sales["closed"]
    return f"{made} sales ({edge} at the registers), {closed} sessions closed"
