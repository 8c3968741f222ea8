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
from warehouse.floor.events import FloorEvent, SaleLineRequest, SaleRequest
from warehouse.pos.service import floor_sessions
from warehouse.pos.service.ports import (
    BookSource,
    NewSale,
    PosUnitOfWork,
    RegisterView,
    SessionView,
)
from warehouse.pos.service.sales import (
    fingerprint,
    picks_of,
    price,
    price_book,
    register_or_404,
    sale_request,
)
from warehouse.stock.domain.model import Movement
from warehouse.stock.service.allocation import LotPicker
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FloorSales:
    """What an ingested batch's sales came to: movements to post and exceptions to queue."""

    movements: list[Movement] = field(default_factory=list)
    exceptions: list[NewException] = field(default_factory=list)


def floor_sales(
    uow: PosUnitOfWork, catalog: Catalog, events: Sequence[FloorEvent], now: datetime
) -> FloorSales:
    """Record what edge registers report, in the order they report it: sales (already made:
    never refused), cashier sessions opened and closed, drawer events."""
    out = FloorSales()
    picker = LotPicker(uow, strict=False)  # one for the batch: its sales share the stock
    for event in events:
        try:
            if event.sale is not None:
                _floor_sale(uow, catalog, picker, (event, event.sale), now, out)
            elif event.session is not None:
                register = _register(uow, catalog, event.session.register, now)
                floor_sessions.apply_session(uow, register, event, event.session)
            elif event.drawer is not None:
                register = _register(uow, catalog, event.drawer.register, now)
                floor_sessions.apply_drawer(uow, register, event, event.drawer)
        except DomainError as exc:  # the register is unknown: nothing can be recorded
            out.exceptions.append(_exception(event, ExceptionKind.PRICE_MISMATCH, exc.message))
            log.warning("%s %s from %s not recorded: %s", event.type, event.event_id,
                        event.agent_id, exc)  # fmt: skip
    return out


def _floor_sale(
    uow: PosUnitOfWork,
    catalog: Catalog,
    picker: LotPicker,
    sale: tuple[FloorEvent, SaleRequest],
    now: datetime,
    out: FloorSales,
) -> None:
    event, request = sale
    register = _register(uow, catalog, request.register, now)
    seen = uow.pos.sale(request.sale_id)
    if seen is not None:  # the same sale under another event id: a register's double send
        log.warning("sale %s reported again by event %s: ignored", request.sale_id, event.event_id)
        return
    at = request.occurred_at or event.occurred_at
    receipt_no = uow.pos.take_receipt_no(register.id, request.receipt_no)
    source = price_book(uow, catalog, register.site, at.date())
    basket, problems = _reprice(source, register.site, at, request, catalog)
    moved = _movements(uow, catalog, picker, register, (event, request), basket, out)
    if request.session_no is not None:
        session: SessionView | None = floor_sessions.session_no(
            uow, register, request.session_no, request.cashier, at
        )
    else:  # a register that does not number its sessions: the one open then, if any
        session = uow.pos.open_session_of(register.id, at)
    product_ids = dict(source.product_ids) if source else {}
    for _, m in moved:
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
            picks_of(moved),
        ),
        now,
    )
    if session is not None:
        floor_sessions.refreeze(uow, session.id)
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


def _movements(
    uow: PosUnitOfWork,
    catalog: Catalog,
    picker: LotPicker,
    register: RegisterView,
    sale: tuple[FloorEvent, SaleRequest],
    basket: pricing.PricedBasket,
    out: FloorSales,
) -> list[tuple[int, Movement]]:
    """The sold lines as movements from the register to the customer, by lot and unit as the
    picker takes them; a line no product has is an ``unknown_item`` exception, a lot sold past
    its expiry an ``expired_lot`` one."""
    event, request = sale
    at = request.occurred_at or event.occurred_at
    source = Provenance(at, "mqtt", event.event_id, event.agent_id, event.device, event.station)
    built: list[tuple[int, Movement]] = []
    lines = zip(basket.lines, _asked(request, basket), strict=True)
    for index, (line, asked) in enumerate(lines):
        try:
            movement = build_movement(
                uow, catalog, sale_request(register, request, line, asked), source
            )
        except DomainError as exc:
            unknown = ExceptionKind.UNKNOWN_ITEM
            out.exceptions.append(_exception(event, unknown, exc.message, line.sku, line.qty))
            continue
        built.append((index, movement))
    picker.prefetch([m for _, m in built])  # the basket's stock at the register at once
    moved: list[tuple[int, Movement]] = []
    for index, movement in built:
        taken = picker.take(movement, at.date())
        moved += [(index, m) for m in taken.movements]
        for lot in taken.expired:
            sku, qty = movement.product.sku, movement.qty
            detail = f"sale {request.sale_id} sold {sku} of lot {lot}, past its expiry"
            expired = ExceptionKind.EXPIRED_LOT
            out.exceptions.append(_exception(event, expired, detail, sku, qty, lot))
    out.movements += [m for _, m in moved]
    return moved


def _asked(request: SaleRequest, basket: pricing.PricedBasket) -> list[SaleLineRequest]:
    """The register's lines beside the priced ones (the same lines, unless the service could
    not price the basket and took the register's figures, which are also one per line)."""
    if len(request.lines) == len(basket.lines):
        return list(request.lines)
    return [SaleLineRequest(qty=line.qty, sku=line.sku) for line in basket.lines]


def _reprice(
    source: BookSource | None, site: str, at: datetime, request: SaleRequest, catalog: Catalog
) -> tuple[pricing.PricedBasket, list[str]]:
    """The basket as the service prices it, and what differs from the register (when the
    service cannot price it, the register's own figures stand)."""
    if source is None:
        problem = f"site {site} has no price list valid on {at.date()}"
        return _as_reported(request, None), [problem]
    try:
        basket = price(source.book, request, catalog.parser)
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
    lot: str | None = None,
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
        lot=lot,
    )
