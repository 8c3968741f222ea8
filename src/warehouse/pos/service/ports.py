"""Ports of the point of sale: price books, registers, cashier sessions, sales and refunds.

The SQL implementation is pos/adapters/repository.py (prices, registers, sales)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from warehouse.exceptions.service.ports import ExceptionsUnitOfWork
from warehouse.pricing import PriceBook, PricedBasket, Promotion, Settlement


@dataclass(frozen=True, slots=True)
class BookSource:
    """A site's price book on a day, with what the ledger needs besides it."""

    book: PriceBook
    product_ids: dict[str, int]  # sku -> product id
    costs: dict[str, int]  # sku -> unit cost, where known


@dataclass(frozen=True, slots=True)
class RegisterView:
    id: int
    code: str
    site: str
    location_id: int
    location_code: str


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    register_id: int
    register_code: str
    site: str
    cashier: str
    status: str
    float_minor: int
    opened_at: datetime
    closed_at: datetime | None
    counted_minor: int | None
    z_report: dict[str, Any] | None
    source: str = "api"  # api, edge
    session_no: int | None = None  # an edge register's own number for it


@dataclass(frozen=True, slots=True)
class Pick:
    """What a sale line took from stock: one lot (and unit), and how much of it came back."""

    line_no: int
    lot: str
    qty: Decimal
    serial: str | None = None
    epc: str | None = None
    returned: Decimal = Decimal(0)
    id: int | None = None  # None until stored


@dataclass(frozen=True, slots=True)
class NewSale:
    sale_id: str
    fingerprint: str
    register_id: int
    session_id: int | None
    receipt_no: int
    site: str
    source: str  # api, edge
    cashier: str
    occurred_at: datetime
    basket: PricedBasket
    settlement: Settlement
    product_ids: dict[str, int]
    costs: dict[str, int]
    reported_total_minor: int | None = None
    event_id: str | None = None
    picks: Sequence[Pick] = ()


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A line of a recorded sale, with what was returned of it so far."""

    line_no: int
    product_id: int | None
    sku: str
    qty: Decimal
    returned: Decimal
    total_minor: int
    tax_rate: Decimal
    picks: tuple[Pick, ...] = ()  # none for sales recorded before lots were kept


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """A refund as recorded: what a retry of it answers."""

    receipt_no: int
    fingerprint: str
    total_minor: int
    tenders: tuple[tuple[str, int, str | None], ...]


@dataclass(frozen=True, slots=True)
class SaleRecord:
    id: int
    sale_id: str
    fingerprint: str
    register_id: int
    register_code: str
    site: str
    receipt_no: int
    tax_inclusive: bool
    lines: tuple[SoldLine, ...]
    tenders: tuple[tuple[str, int, str | None], ...]  # kind, amount, reference


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_no: int  # the sale's line, 0 without a receipt
    product_id: int
    qty: Decimal
    amount_minor: int
    tax_rate: Decimal
    tax_minor: int
    disposition: str
    back: tuple[Pick, ...] = ()  # the sale's picks it returns, each with the quantity back


@dataclass(frozen=True, slots=True)
class NewRefund:
    refund_id: str
    fingerprint: str
    sale_pk: int | None
    register_id: int
    session_id: int | None
    receipt_no: int
    cashier: str
    total_minor: int
    tax_minor: int
    reason: str | None
    lines: Sequence[RefundLine]
    tenders: Sequence[tuple[str, int, str | None]]  # refunded: kind, amount (positive), ref


@dataclass(frozen=True, slots=True)
class NewDrawerEvent:
    """The drawer opened without a sale: cash paid in or out, or a no-sale."""

    session_id: int
    kind: str  # paid_in, paid_out, no_sale
    amount_minor: int
    reason: str | None
    cashier: str
    occurred_at: datetime
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewPrice:
    product_id: int
    unit_price_minor: int
    tax_category: str
    unit_cost_minor: int | None = None


@dataclass(frozen=True, slots=True)
class NewPriceList:
    site: str
    name: str
    currency: str
    tax_inclusive: bool
    cash_step_minor: int
    priority: int
    valid_from: date | None
    valid_to: date | None
    prices: Sequence[NewPrice]


class PriceRepository(Protocol):
    def price_list_exists(self, site: str, name: str) -> bool: ...
    def add_price_list(self, price_list: NewPriceList, now: datetime) -> int: ...
    def add_tax_rate(
        self, site: str, category: str, rate: Decimal, valid_from: date, valid_to: date | None
    ) -> int: ...
    def promotion_exists(self, site: str, code: str) -> bool: ...
    def add_promotion(
        self, site: str, promotion: Promotion, valid: tuple[date | None, date | None]
    ) -> int: ...


class PosRepository(PriceRepository, Protocol):
    def price_book(self, site: str, on: date) -> BookSource | None: ...
    def register(self, code: str) -> RegisterView | None: ...
    def register_at(self, location_id: int) -> RegisterView | None: ...
    def add_register(self, code: str, location_id: int, site: str, now: datetime) -> int: ...
    def lock(self, register_id: int) -> None:
        """Hold the register's row until the commit (sessions open one at a time)."""
        ...

    def take_receipt_no(self, register_id: int, wanted: int | None = None) -> int:
        """The register's next receipt number (locks the register until the commit); a
        number the register gave itself (``wanted``) is taken as is, and the next one after
        the highest."""
        ...

    def open_session(
        self, register_id: int, cashier: str, float_minor: int, at: datetime
    ) -> int: ...

    def session(self, session_id: int, *, lock: bool = False) -> SessionView | None: ...
    def open_session_of(self, register_id: int, at: datetime) -> SessionView | None:
        """The session open at ``at`` on the register (an edge sale's time)."""
        ...

    def close_session(
        self, session_id: int, counted_minor: int, report: dict[str, Any], at: datetime
    ) -> None: ...
    def edge_session(
        self, register_id: int, session_no: int, *, lock: bool = False
    ) -> SessionView | None:
        """The session an edge register opened under its own number."""
        ...

    def add_edge_session(
        self, register_id: int, session_no: int, cashier: str, float_minor: int, at: datetime
    ) -> int: ...
    def update_session(self, session_id: int, **values: Any) -> None: ...
    def add_drawer(self, event: NewDrawerEvent) -> int: ...
    def session_totals(self, session_id: int) -> dict[str, Any]: ...
    def sale(self, sale_id: str, *, lock: bool = False) -> SaleRecord | None: ...
    def receipt(self, sale_id: str) -> dict[str, Any]: ...
    def add_sale(self, sale: NewSale, now: datetime) -> int: ...
    def refund(self, refund_id: str) -> RefundRecord | None: ...
    def add_refund(self, refund: NewRefund, now: datetime) -> int: ...
    def refunded_tenders(self, sale_pk: int) -> dict[tuple[str, str | None], int]:
        """What refunds of a sale gave back so far, per (tender kind, reference)."""
        ...

    def mark_returned(
        self, sale_pk: int, qty_by_line: dict[int, Decimal], qty_by_pick: dict[int, Decimal]
    ) -> None: ...


class PosUnitOfWork(ExceptionsUnitOfWork, Protocol):
    """The repositories the point of sale needs: stock's, the exceptions queue, its own."""

    pos: PosRepository
