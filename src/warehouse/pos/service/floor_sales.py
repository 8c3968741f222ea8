"""Sales edge registers report, replayed by the ingest: already made, so never refused. The
service prices each again; a total other than the register's is a ``price_mismatch``
exception, a code no product has an ``unknown_item`` one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from warehouse import pricing
from warehouse.core.errors import DomainError, SaleRule
from warehouse.exceptions.domain import SUGGESTIONS, ExceptionKind
from warehouse.exceptions.service.ports import NewException
from warehouse.floor.events import FloorEvent, SaleRequest
from warehouse.pos.service.ports import BookSource, NewSale, PosUnitOfWork, RegisterView
from warehouse.pos.service.sales import fingerprint, price, price_book, register_or_404
from warehouse.stock.domain.model import Movement
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FloorSales:
    """What an ingested batch's sales came to: movements to post and exceptions to queue."""

    movements: list[Movement] = field(default_factory=list)
    exceptions: list[NewException] = field(default_factory=list)


def floor_sales(
    uow: PosUnitOfWork,
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
    uow: PosUnitOfWork,
    catalog: Catalog,
    event: FloorEvent,
    request: SaleRequest,
    now: datetime,
    out: FloorSales,
) -> None:
    register = _register(uow, catalog, request.register, now)
    seen = uow.pos.sale(request.sale_id)
    if seen is not None:  # the same sale under another event id: a register's double send
        log.warning("sale %s reported again by event %s: ignored", request.sale_id, event.event_id)
        return
    at = request.occurred_at or event.occurred_at
    receipt_no = uow.pos.take_receipt_no(register.id, request.receipt_no)
    source = price_book(uow, catalog, register.site, at.date())
    basket, problems = _reprice(source, register.site, at, request)
    source_of = Provenance(at, "mqtt", event.event_id, event.agent_id, event.device, event.station)
    for line in basket.lines:
        try:
            movement = _sale_movement(uow, catalog, register, request.sale_id, line, source_of)
        except DomainError as exc:
            unknown = ExceptionKind.UNKNOWN_ITEM
            out.exceptions.append(_exception(event, unknown, exc.message, line.sku, line.qty))
            continue
        out.movements.append(movement)
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
            _settlement(request),
            product_ids,
            source.costs if source else {},
            request.reported_total_minor,
            event.event_id,
        ),
        now,
    )
    if problems:
        detail = f"sale {request.sale_id}: " + "; ".join(problems)
        out.exceptions.append(_exception(event, ExceptionKind.PRICE_MISMATCH, detail))


def _settlement(request: SaleRequest) -> pricing.Settlement:
    """How the register says the sale was paid."""
    return pricing.Settlement(
        tuple(request.tenders),
        request.change_minor or 0,
        request.rounding_minor or 0,
        sum(t.amount_minor for t in request.tenders),
    )


def _register(uow: PosUnitOfWork, catalog: Catalog, code: str, now: datetime) -> RegisterView:
    """The register a sale names; a register location that has sold nothing yet becomes one."""
    register = uow.pos.register(code)
    if register is None:
        location = catalog.location(uow, code, "register")
        if location.id is None or location.site_code is None:
            raise SaleRule(f"{code} is not a register", field="register")
        uow.pos.add_register(location.code, location.id, location.site_code, now)
        register = register_or_404(uow, location.code)
    return register


def _sale_movement(
    uow: PosUnitOfWork,
    catalog: Catalog,
    register: RegisterView,
    sale_id: str,
    line: pricing.PricedLine,
    source: Provenance,
) -> Movement:
    """A sold line as the movement from the register to the customer."""
    request = MovementRequest(
        kind="sale",
        qty=line.qty,
        sku=line.sku,
        code=None,
        from_location=register.location_code,
        to_location="CUSTOMER",
        order_ref=sale_id,
    )
    return build_movement(uow, catalog, request, source)


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
