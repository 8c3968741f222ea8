"""Refunds against a sale (or without a receipt): goods back to stock or written off, tenders
given back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from warehouse import pricing
from warehouse.core.errors import Conflict, NotFound, SaleRule
from warehouse.pos.service.ports import NewRefund, Pick, PosUnitOfWork, RefundLine, SoldLine
from warehouse.pos.service.sales import book_or_refuse, register_or_404
from warehouse.stock.domain.model import Movement
from warehouse.stock.service import posting
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement


class Disposition(StrEnum):
    RESTOCK = "restock"  # back on the register's shelf
    WRITE_OFF = "write_off"  # came back, not sellable: written off to LOSS


@dataclass(frozen=True, slots=True)
class RefundLineRequest:
    qty: Decimal
    disposition: Disposition
    line_no: int | None = None  # the sale's line (with a receipt)
    sku: str | None = None  # without a receipt


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_id: str
    register: str
    lines: Sequence[RefundLineRequest]
    cashier: str
    sale_id: str | None = None  # None: a return without a receipt
    tender: str = "cash"  # without a receipt: how the money goes back
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: str
    receipt_no: int
    total_minor: int
    tenders: tuple[tuple[str, int, str | None], ...]
    replay: bool


def refund(
    uow: PosUnitOfWork, catalog: Catalog, request: RefundRequest, now: datetime
) -> RefundResult:
    """Refund lines of a sale (or, without a receipt, products at today's price), back to the
    sale's own tenders, and restock or write off what came back."""
    print_ = hashlib.sha256(json.dumps(asdict(request), sort_keys=True, default=str).encode())
    digest = print_.hexdigest()
    if not request.lines:
        raise SaleRule("a refund has at least one line", field="lines")
    with uow:
        catalog.refresh(uow)
        register = register_or_404(uow, request.register)
        receipt_no = uow.pos.take_receipt_no(register.id)
        seen = uow.pos.refund(request.refund_id)
        if seen is not None:
            if seen.fingerprint != digest:
                raise Conflict(
                    f"refund {request.refund_id!r} exists with other lines", field="refund_id"
                )
            return RefundResult(
                request.refund_id, seen.receipt_no, seen.total_minor, seen.tenders, True
            )
        session = uow.pos.open_session_of(register.id, now)
        if session is None:
            raise SaleRule(f"register {register.code} has no open session", field="register")
        sale_pk: int | None = None
        if request.sale_id is not None:
            lines, tenders, sale_pk = _against_sale(uow, request)
        else:
            lines, tenders = _without_receipt(uow, catalog, register.site, request, now)
        total = sum(x.amount_minor for x in lines)
        movements = _stock(uow, catalog, register.location_code, request, lines, now)
        posting.post(uow, movements, now, enforce=False)
        uow.pos.add_refund(
            NewRefund(
                request.refund_id,
                digest,
                sale_pk,
                register.id,
                session.id,
                receipt_no,
                request.cashier,
                total,
                sum(x.tax_minor for x in lines),
                request.reason,
                lines,
                tenders,
            ),
            now,
        )
        if sale_pk is not None:
            _mark_returned(uow, sale_pk, lines)
        uow.commit()
    return RefundResult(request.refund_id, receipt_no, total, tuple(tenders), False)


def _mark_returned(uow: PosUnitOfWork, sale_pk: int, lines: Sequence[RefundLine]) -> None:
    """What came back, per line of the sale and per lot (and unit) it took."""
    returned: dict[int, Decimal] = {}
    picks: dict[int, Decimal] = {}
    for x in lines:
        returned[x.line_no] = returned.get(x.line_no, Decimal(0)) + x.qty
        for pick in x.back:
            assert pick.id is not None
            picks[pick.id] = picks.get(pick.id, Decimal(0)) + pick.qty
    uow.pos.mark_returned(sale_pk, returned, picks)


def _tax(amount: int, rate: Decimal, inclusive: bool) -> tuple[int, int]:
    """(what is paid back, the tax in it) for a line share of ``amount``."""
    if inclusive:
        return amount, pricing.round_minor(amount * rate / (100 + rate))
    tax = pricing.round_minor(amount * rate / 100)
    return amount + tax, tax


def _against_sale(
    uow: PosUnitOfWork, request: RefundRequest
) -> tuple[list[RefundLine], list[tuple[str, int, str | None]], int]:
    assert request.sale_id is not None
    sale = uow.pos.sale(request.sale_id, lock=True)
    if sale is None:
        raise NotFound(f"sale {request.sale_id!r} does not exist", field="sale_id")
    by_no = {line.line_no: line for line in sale.lines}
    asked: dict[int, Decimal] = {}
    given: dict[int, Decimal] = {}  # per pick, what this refund's lines gave back so far
    out: list[RefundLine] = []
    for index, x in enumerate(request.lines):
        sold = by_no.get(x.line_no or 0)
        if sold is None or sold.product_id is None:
            raise SaleRule(
                f"line {index + 1}: sale {sale.sale_id} has no line {x.line_no} to return",
                field=f"lines[{index}].line_no",
            )
        asked[sold.line_no] = asked.get(sold.line_no, Decimal(0)) + x.qty
        if asked[sold.line_no] > sold.qty - sold.returned:
            raise SaleRule(
                f"line {index + 1}: {sold.qty} of {sold.sku} sold on line {sold.line_no}, "
                f"{sold.returned} returned already; {asked[sold.line_no]} cannot come back",
                field=f"lines[{index}].qty",
            )
        share = pricing.round_minor(sold.total_minor * x.qty / sold.qty)
        amount, tax = _tax(share, sold.tax_rate, sale.tax_inclusive)
        back = _back(sold, x.qty, given)
        out.append(
            RefundLine(
                sold.line_no,
                sold.product_id,
                x.qty,
                amount,
                sold.tax_rate,
                tax,
                x.disposition,
                back,
            )
        )
    return out, _to_tenders(uow, sale.id, sale.tenders, sum(x.amount_minor for x in out)), sale.id


def _back(sold: SoldLine, qty: Decimal, given: dict[int, Decimal]) -> tuple[Pick, ...]:
    """What of the line's picks comes back: the lots it took, the last taken first (each up to
    what it took less what came back before); none for a sale recorded without picks."""
    out = []
    left = qty
    for pick in reversed(sold.picks):
        assert pick.id is not None
        room = pick.qty - pick.returned - given.get(pick.id, Decimal(0))
        take = min(room, left)
        if take > 0:
            out.append(replace(pick, qty=take))
            given[pick.id] = given.get(pick.id, Decimal(0)) + take
            left -= take
        if left <= 0:
            break
    return tuple(out)


def _to_tenders(
    uow: PosUnitOfWork,
    sale_pk: int,
    tenders: Sequence[tuple[str, int, str | None]],
    amount: int,
) -> list[tuple[str, int, str | None]]:
    """The refund spread over the sale's own tenders: card, voucher and other first (each up to
    what it paid less what earlier refunds gave back to it), cash last."""
    given = uow.pos.refunded_tenders(sale_pk)
    ordered = sorted(tenders, key=lambda t: t[0] == "cash")
    out = []
    left = amount
    for kind, paid, reference in ordered:
        room = paid - given.get((kind, reference), 0)
        take = min(room, left)
        if take > 0:
            out.append((kind, take, reference))
            left -= take
    if left > 0:  # rounding of partial returns can leave a cent: cash gives it
        out.append(("cash", left, None))
    return out


def _without_receipt(
    uow: PosUnitOfWork, catalog: Catalog, site: str, request: RefundRequest, now: datetime
) -> tuple[list[RefundLine], list[tuple[str, int, str | None]]]:
    if request.tender not in pricing.TENDER_KINDS:
        raise SaleRule(f"unknown tender {request.tender!r}", field="tender")
    source = book_or_refuse(uow, catalog, site, now)
    out = []
    for index, x in enumerate(request.lines):
        item = source.book.item(x.sku or "")
        if item is None or x.sku not in source.product_ids:
            raise SaleRule(
                f"line {index + 1}: {x.sku!r} has no price at {site}", field=f"lines[{index}].sku"
            )
        rate = source.book.tax_rates.get(item.tax_category, Decimal(0))
        amount, tax = _tax(
            pricing.round_minor(item.unit_price_minor * x.qty), rate, source.book.tax_inclusive
        )
        out.append(
            RefundLine(0, source.product_ids[item.sku], x.qty, amount, rate, tax, x.disposition)
        )
    return out, [(request.tender, sum(x.amount_minor for x in out), None)]


def _stock(
    uow: PosUnitOfWork,
    catalog: Catalog,
    register_location: str,
    request: RefundRequest,
    lines: Sequence[RefundLine],
    now: datetime,
) -> list[Movement]:
    """What comes back, into the lots (and as the units) it left as, restocked at the register
    or written off from it to LOSS."""
    source = Provenance(now, "api", actor=request.cashier)
    ref = request.sale_id or request.refund_id
    out = []
    for x in lines:
        product = uow.products.by_id(x.product_id)
        assert product is not None  # sale lines and price rows reference products
        parts = x.back or (Pick(x.line_no, "", x.qty),)
        for part in parts:
            for kind, origin, to in (
                ("return", "CUSTOMER", register_location),
                ("adjust", register_location, "LOSS"),
            ):
                if kind == "adjust" and x.disposition != Disposition.WRITE_OFF:
                    continue
                moved = build_movement(
                    uow,
                    catalog,
                    MovementRequest(
                        kind=kind,
                        qty=part.qty,
                        sku=product.sku,
                        lot=part.lot or None,
                        serial=part.serial,
                        epc=part.epc,
                        from_location=origin,
                        to_location=to,
                        order_ref=ref,
                    ),
                    source,
                )
                moved.origin = "api"
                out.append(moved)
    return out
