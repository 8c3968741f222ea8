"""Sales at the point of sale: one use case reached two ways.

Through the API (:func:`record_sale`) a sale is a command: priced by the service, refused when a
line would oversell under the ``block`` policy, numbered with the register's next receipt number.
From an edge register (``floor_sales.py``, called by the ingest) the sale already happened: it is
never refused. Both price the basket with the same engine (``warehouse.pricing``) from the
site's price book.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from warehouse import pricing
from warehouse.catalog.service.ports import CodeParser
from warehouse.core.errors import Conflict, DomainError, InsufficientStock, NotFound, SaleRule
from warehouse.floor.events import SaleLineRequest, SaleRequest
from warehouse.pos.service.ports import (
    BookSource,
    NewSale,
    Pick,
    PosUnitOfWork,
    RegisterView,
    SaleRecord,
)
from warehouse.stock.domain.model import Movement
from warehouse.stock.service import posting
from warehouse.stock.service.allocation import LotPicker
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

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
        raise SaleRule(exc.message, field="discount") from None


def register_or_404(uow: PosUnitOfWork, code: str) -> RegisterView:
    register = uow.pos.register(code)
    if register is None:
        raise NotFound(
            f"register {code!r} does not exist (POST /api/v1/pos/registers)", field="register"
        )
    return register


def price_book(uow: PosUnitOfWork, catalog: Catalog, site: str, on: date) -> BookSource | None:
    """The site's price book on ``on``, cached with the catalog (price, tax and promotion
    changes bump its version, which drops it)."""
    return catalog.cached(("price_book", site, on), lambda: uow.pos.price_book(site, on))


def book_or_refuse(uow: PosUnitOfWork, catalog: Catalog, site: str, at: datetime) -> BookSource:
    source = price_book(uow, catalog, site, at.date())
    if source is None:
        raise SaleRule(
            f"site {site} has no price list valid on {at.date().isoformat()}", field="register"
        )
    return source


def line_inputs(
    book: pricing.PriceBook, lines: Sequence[SaleLineRequest], parser: CodeParser | None = None
) -> list[pricing.LineInput]:
    """The lines as the pricing engine takes them, scanned codes looked up in the book: as
    they are (a GTIN, an alias), else by the GTIN a GS1 code carries (an element string, a
    Digital Link)."""
    codes = book.by_code()
    out = []
    for index, line in enumerate(lines):
        sku = line.sku or (_sku_of(book, codes, line.code, parser) if line.code else None)
        if not sku:
            raise SaleRule(f"line {index + 1} names no product", field=f"lines[{index}]")
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


def _sku_of(
    book: pricing.PriceBook, codes: dict[str, str], code: str, parser: CodeParser | None
) -> str:
    found = book.sku_for(code, codes)
    if found is None and parser is not None:
        parsed = parser(code)
        if parsed is not None and parsed.gtin is not None:
            found = book.sku_for(parsed.gtin, codes)
    return found or code


def price(
    book: pricing.PriceBook, request: SaleRequest, parser: CodeParser | None = None
) -> pricing.PricedBasket:
    """The basket priced by the service's book; a line that cannot be priced is a 422 naming it."""
    inputs = line_inputs(book, request.lines, parser)
    basket = discount_of(request.basket_discount_percent, request.basket_discount_amount_minor)
    try:
        return pricing.price_basket(book, inputs, basket)
    except pricing.PricingError as exc:
        where = f"lines[{exc.line}]" if exc.line is not None else (exc.field or "lines")
        raise SaleRule(exc.message, field=where) from None


def record_sale(
    uow: PosUnitOfWork, catalog: Catalog, request: SaleRequest, now: datetime
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
            raise SaleRule(
                f"register {register.code} has no open session; open one first", field="register"
            )
        source = book_or_refuse(uow, catalog, register.site, now)
        basket = price(source.book, request, catalog.parser)
        try:
            settlement = pricing.settle(
                basket.total_minor, request.tenders, source.book.cash_step_minor
            )
        except pricing.PricingError as exc:
            raise SaleRule(exc.message, field="tenders") from None
        movements = _movements(uow, catalog, register, request, basket, now)
        try:
            ids = posting.post(uow, [m for _, m in movements], now, enforce=True)
        except InsufficientStock as exc:  # named by its line, as the cashier rang it up
            raise on_line(exc, next(i for i, m in movements if m.product.sku == exc.sku)) from None
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
                picks=picks_of(movements),
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
    uow: PosUnitOfWork,
    catalog: Catalog,
    register: RegisterView,
    request: SaleRequest,
    basket: pricing.PricedBasket,
    now: datetime,
) -> list[tuple[int, Movement]]:
    """The sale movements from the register to the customer, each with its line's index: a line
    takes the lot or unit its code (or the cashier) names, else the register's lots by first
    expiry, then first in (stock/service/allocation.py)."""
    source = Provenance(request.occurred_at or now, "api", actor=request.cashier)
    built = []
    for index, (line, asked) in enumerate(zip(basket.lines, request.lines, strict=True)):
        try:
            movement = build_movement(
                uow, catalog, sale_request(register, request, line, asked), source
            )
        except DomainError as exc:
            raise on_line(exc, index) from None
        movement.origin = "api"
        built.append(movement)
    picker = LotPicker(uow, strict=True)
    picker.prefetch(built)  # the basket's stock at the register in one statement
    out = []
    for index, movement in enumerate(built):
        try:
            taken = picker.take(movement, now.date())
        except DomainError as exc:
            raise on_line(exc, index) from None
        out += [(index, m) for m in taken.movements]
    return out


def sale_request(
    register: RegisterView, request: SaleRequest, line: pricing.PricedLine, asked: SaleLineRequest
) -> MovementRequest:
    """A priced line as the movement from the register to the customer, with what its code
    and the cashier say of its lot and unit."""
    return MovementRequest(
        kind="sale",
        qty=line.qty,
        sku=line.sku,
        code=asked.code,
        lot=asked.lot,
        serial=asked.serial,
        from_location=register.location_code,
        to_location="CUSTOMER",
        order_ref=request.sale_id,
    )


def picks_of(movements: Sequence[tuple[int, Movement]]) -> list[Pick]:
    """What each line took, by line number, lot and unit; nothing when every line took its
    quantity from the lot-less stock in one part (where a refund returns a line without picks)."""
    lines = [i for i, _ in movements]
    plain = len(set(lines)) == len(lines) and all(
        not m.lot and not m.serial and not m.epc for _, m in movements
    )
    return [] if plain else [Pick(i + 1, m.lot, m.qty, m.serial, m.epc) for i, m in movements]


def on_line(exc: DomainError, index: int) -> DomainError:
    """``exc`` named by the line it concerns, as the cashier rang it up."""
    exc.field = f"lines[{index}].{(exc.field or 'qty').split('.')[-1]}"
    exc.message = f"line {index + 1}: {exc.message}"
    exc.args = (exc.message,)
    return exc
