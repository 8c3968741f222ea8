"""Sales at the point of sale: one use case reached two ways.

Through the API (:func:`record_sale`) a sale is a command: priced by the service, refused when a
line would oversell under the ``block`` policy, numbered with the register's next receipt number.
From an edge register (:func:`floor_sales`, called by the ingest) the sale already happened: it
is never refused. The service prices it again; a total other than the register's is a
``price_mismatch`` exception, stock driven below zero a ``negative_stock`` one, a code no product
has an ``unknown_item`` one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from warehouse import pricing
from warehouse.domain.errors import (
    Conflict,
    DomainError,
    InsufficientStock,
    NotFound,
    RuleViolation,
)
from warehouse.domain.exceptions import SUGGESTIONS, ExceptionKind
from warehouse.domain.model import Movement
from warehouse.service_layer import posting
from warehouse.service_layer.commands import (
    FloorEvent,
    MovementRequest,
    SaleLineRequest,
    SaleRequest,
)
from warehouse.service_layer.ports import UnitOfWork
from warehouse.service_layer.ports_orders import NewException
from warehouse.service_layer.ports_pos import BookSource, NewSale, RegisterView, SaleRecord
from warehouse.service_layer.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SaleResult:
    sale_id: str
    receipt_no: int
    replay: bool
    movement_ids: list[int] = field(default_factory=list)
    receipt: dict[str, Any] = field(default_factory=dict)  # see warehouse.receipts


def fingerprint(request: SaleRequest) -> str:
    """A stable hash of a sale, to tell a retry from a different sale under the same id."""
    body = asdict(request)
    body.pop("occurred_at", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def discount_of(percent: Decimal | None, amount: int | None) -> pricing.Discount | None:
    if percent is None and amount is None:
        return None
    try:
        return pricing.Discount(percent, amount)
    except pricing.PricingError as exc:
        raise RuleViolation(exc.message, field="discount") from None


def register_or_404(uow: UnitOfWork, code: str) -> RegisterView:
    register = uow.pos.register(code)
    if register is None:
        raise NotFound(
            f"register {code!r} does not exist (POST /api/v1/pos/registers)", field="register"
        )
    return register


def book_or_refuse(uow: UnitOfWork, catalog: Catalog, site: str, at: datetime) -> BookSource:
    source = catalog.price_book(uow, site, at.date())
    if source is None:
        raise RuleViolation(
            f"site {site} has no price list valid on {at.date().isoformat()}", field="register"
        )
    return source


def line_inputs(
    book: pricing.PriceBook, lines: Sequence[SaleLineRequest]
) -> list[pricing.LineInput]:
    """The lines as the pricing engine takes them, scanned codes looked up in the book."""
    codes = book.by_code()
    out = []
    for index, line in enumerate(lines):
        sku = line.sku or (book.sku_for(line.code, codes) or line.code if line.code else None)
        if not sku:
            raise RuleViolation(f"line {index + 1} names no product", field=f"lines[{index}]")
        out.append(
            pricing.LineInput(
                sku,
                line.qty,
                line.unit_price_override_minor,
                line.embedded_price_minor,
                discount_of(line.discount_percent, line.discount_amount_minor),
            )
        )
    return out


def price(book: pricing.PriceBook, request: SaleRequest) -> pricing.PricedBasket:
    """The basket priced by the service's book; a line that cannot be priced is a 422 naming it."""
    inputs = line_inputs(book, request.lines)
    basket = discount_of(request.basket_discount_percent, request.basket_discount_amount_minor)
    try:
        return pricing.price_basket(book, inputs, basket)
    except pricing.PricingError as exc:
        where = f"lines[{exc.line}]" if exc.line is not None else (exc.field or "lines")
        raise RuleViolation(exc.message, field=where) from None


def record_sale(
    uow: UnitOfWork, catalog: Catalog, request: SaleRequest, now: datetime
) -> SaleResult:
    """Record a sale made through the API, exactly once per ``sale_id``."""
    print_ = fingerprint(request)
    with uow:
        catalog.refresh(uow)
        register = register_or_404(uow, request.register)
        receipt_no = uow.pos.take_receipt_no(register.id)  # from here on, one sale at a time
        seen = uow.pos.sale(request.sale_id)
        if seen is not None:
            replayed = _replay(seen, print_)
            replayed.receipt = uow.pos.receipt(request.sale_id)
            return replayed
        session = uow.pos.open_session_of(register.id, now)
        if session is None:
            raise RuleViolation(
                f"register {register.code} has no open session; open one first", field="register"
            )
        source = book_or_refuse(uow, catalog, register.site, now)
        basket = price(source.book, request)
        try:
            settlement = pricing.settle(
                basket.total_minor, request.tenders, source.book.cash_step_minor
            )
        except pricing.PricingError as exc:
            raise RuleViolation(exc.message, field="tenders") from None
        movements = _movements(uow, catalog, register, request, basket, now, None)
        try:
            ids = posting.post(uow, [m for _, m in movements], now, enforce=True)
        except InsufficientStock as exc:  # named by its line, as the cashier rang it up
            index = next(i for i, m in movements if m.product.sku == exc.sku)
            exc.field = f"lines[{index}].qty"
            exc.message = f"line {index + 1}: {exc.message}"
            exc.args = (exc.message,)
            raise
        uow.pos.add_sale(
            NewSale(
                request.sale_id,
                print_,
                register.id,
                session.id,
                receipt_no,
                register.site,
                "api",
                request.cashier,
                request.occurred_at or now,
                basket,
                settlement,
                source.product_ids,
                source.costs,
            ),
            now,
        )
        doc = uow.pos.receipt(request.sale_id)
        uow.commit()
    return SaleResult(request.sale_id, receipt_no, False, ids, doc)


def _replay(seen: SaleRecord, print_: str) -> SaleResult:
    if seen.fingerprint != print_:
        raise Conflict(
            f"sale {seen.sale_id!r} was recorded already with a different basket", field="sale_id"
        )
    return SaleResult(seen.sale_id, seen.receipt_no, True)


def _movements(
    uow: UnitOfWork,
    catalog: Catalog,
    register: RegisterView,
    request: SaleRequest,
    basket: pricing.PricedBasket,
    now: datetime,
    event: FloorEvent | None,
) -> list[tuple[int, Movement]]:
    """One sale movement per line, from the register to the customer, with its line index."""
    origin = "api" if event is None else "mqtt"
    source = Provenance(
        request.occurred_at or now,
        origin,
        event.event_id if event else None,
        event.agent_id if event else None,
        event.device if event else None,
        event.station if event else None,
        request.cashier if event is None else None,
    )
    out = []
    for index, line in enumerate(basket.lines):
        movement = build_movement(
            uow,
            catalog,
            MovementRequest(
                kind="sale",
                qty=line.qty,
                sku=line.sku,
                from_location=register.location_code,
                to_location="CUSTOMER",
                order_ref=request.sale_id,
            ),
            source,
        )
        movement.origin = origin
        out.append((index, movement))
    return out


@dataclass(slots=True)
class FloorSales:
    """What an ingested batch's sales came to: movements to post and exceptions to queue."""

    movements: list[Movement] = field(default_factory=list)
    exceptions: list[NewException] = field(default_factory=list)


def floor_sales(
    uow: UnitOfWork,
    catalog: Catalog,
    sales: Sequence[tuple[FloorEvent, SaleRequest]],
    now: datetime,
) -> FloorSales:
    """Record the sales edge registers report (already made: never refused)."""
    out = FloorSales()
    for event, request in sales:
        try:
            _floor_sale(uow, catalog, event, request, now, out)
        except DomainError as exc:  # the register is unknown: nothing can be recorded
            out.exceptions.append(_exception(event, ExceptionKind.PRICE_MISMATCH, exc.message))
            log.warning("sale %s from %s not recorded: %s", request.sale_id, event.agent_id, exc)
    return out


def _floor_sale(
    uow: UnitOfWork,
    catalog: Catalog,
    event: FloorEvent,
    request: SaleRequest,
    now: datetime,
    out: FloorSales,
) -> None:
    register = uow.pos.register(request.register)
    if register is None:
        location = catalog.location(uow, request.register, "register")
        if location.id is None or location.site_code is None:
            raise RuleViolation(f"{request.register} is not a register", field="register")
        uow.pos.add_register(location.code, location.id, location.site_code, now)
        register = register_or_404(uow, location.code)
    seen = uow.pos.sale(request.sale_id)
    if seen is not None:  # the same sale under another event id: a register's double send
        log.warning("sale %s reported again by event %s: ignored", request.sale_id, event.event_id)
        return
    at = request.occurred_at or event.occurred_at
    receipt_no = uow.pos.take_receipt_no(register.id, request.receipt_no)
    source = catalog.price_book(uow, register.site, at.date())
    basket, problems = _reprice(source, register.site, at, request)
    for line in basket.lines:
        try:
            movement = build_movement(
                uow,
                catalog,
                MovementRequest(
                    kind="sale",
                    qty=line.qty,
                    sku=line.sku,
                    code=None,
                    from_location=register.location_code,
                    to_location="CUSTOMER",
                    order_ref=request.sale_id,
                ),
                Provenance(at, "mqtt", event.event_id, event.agent_id, event.device, event.station),
            )
        except DomainError as exc:
            out.exceptions.append(
                _exception(
                    event, ExceptionKind.UNKNOWN_ITEM, exc.message, sku=line.sku, qty=line.qty
                )
            )
            continue
        out.movements.append(movement)
    settlement = pricing.Settlement(
        tuple(request.tenders),
        request.change_minor or 0,
        request.rounding_minor or 0,
        sum(t.amount_minor for t in request.tenders),
    )
    session = uow.pos.open_session_of(register.id, at)
    product_ids = dict(source.product_ids) if source else {}
    for m in out.movements:
        if m.product.id is not None:
            product_ids.setdefault(m.product.sku, m.product.id)
    uow.pos.add_sale(
        NewSale(
            request.sale_id,
            fingerprint(request),
            register.id,
            session.id if session else None,
            receipt_no,
            register.site,
            "edge",
            request.cashier,
            at,
            basket,
            settlement,
            product_ids,
            source.costs if source else {},
            request.reported_total_minor,
            event.event_id,
        ),
        now,
    )
    if problems:
        out.exceptions.append(
            _exception(
                event,
                ExceptionKind.PRICE_MISMATCH,
                f"sale {request.sale_id}: " + "; ".join(problems),
            )
        )


def _reprice(
    source: BookSource | None, site: str, at: datetime, request: SaleRequest
) -> tuple[pricing.PricedBasket, list[str]]:
    """The basket as the service prices it, and what differs from the register (when the
    service cannot price it, the register's own figures stand)."""
    if source is None:
        problem = f"site {site} has no price list valid on {at.date()}"
        return _as_reported(request, None), [problem]
    try:
        basket = price(source.book, request)
    except DomainError as exc:
        problem = f"the service could not price it: {exc.message}"
        return _as_reported(request, source.book), [problem]
    reported = request.reported_total_minor
    if reported is not None and reported != basket.total_minor:
        return basket, [
            f"the register charged {reported}, the service's prices come to "
            f"{basket.total_minor} {basket.currency}"
        ]
    return basket, []


def _as_reported(request: SaleRequest, book: pricing.PriceBook | None) -> pricing.PricedBasket:
    """The basket as the register priced it, when the service cannot price it itself."""
    lines = []
    for line in request.lines:
        unit = line.reported_unit_price_minor or 0
        gross = line.embedded_price_minor or pricing.round_minor(unit * line.qty)
        lines.append(
            pricing.PricedLine(
                sku=line.sku or line.code or "?",
                qty=line.qty,
                unit_price_minor=unit,
                tax_category="unknown",
                tax_rate=Decimal(0),
                gross_minor=gross,
                discount_minor=line.reported_discount_minor,
            )
        )
    subtotal = sum(ln.gross_minor for ln in lines)
    total = request.reported_total_minor
    if total is None:
        total = sum(ln.total_minor for ln in lines)
    return pricing.PricedBasket(
        currency=request.currency or (book.currency if book else "XXX"),
        lines=tuple(lines),
        taxes=(),
        subtotal_minor=subtotal,
        discount_minor=subtotal - sum(ln.total_minor for ln in lines),
        tax_minor=0,
        total_minor=total,
        tax_inclusive=book.tax_inclusive if book else True,
    )


def _exception(
    event: FloorEvent,
    kind: ExceptionKind,
    detail: str,
    *,
    sku: str | None = None,
    qty: Decimal | None = None,
) -> NewException:
    return NewException(
        kind.value,
        detail,
        tuple(r.value for r in SUGGESTIONS[kind]),
        site=event.site,
        event_id=event.event_id,
        agent_id=event.agent_id,
        station=event.station,
        sku=sku,
        qty=qty,
    )
