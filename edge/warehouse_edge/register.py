"""The register at the edge: a basket rung up from scans, priced by the shared pricing engine
with the local price book, paid and completed without the broker or the service.

What the cashier scans (prefixes are the station's; these are the defaults):

| scan                  | does                                                               |
|-----------------------|--------------------------------------------------------------------|
| an item               | adds a line; the same code again adds one to its quantity          |
| ``QTY:3``             | the next item comes three times                                    |
| ``VOID`` / ``VOID:2`` | removes the last line / line 2                                      |
| ``DISC:10%`` / ``DISC:1.50`` | a discount on the last line (percent or amount)             |
| ``BDISC:5%``          | a discount on the whole basket                                     |
| ``MGR:<card>``        | a manager's card: the next ``PRICE:`` is allowed                   |
| ``PRICE:2.00``        | overrides the last line's unit price (after a manager card)        |
| ``TOTAL``             | shows what is due                                                  |
| ``PAY:CASH:20.00``    | a tender: ``CASH``, ``CARD``, ``VOUCHER`` or ``OTHER`` (see below)   |
| ``CANCEL``            | drops the basket                                                   |
| ``OPEN:100.00``       | opens a cashier session with 100.00 in the drawer                   |
| ``CLOSE:312.50``      | closes it with the cash counted (the service's Z report)            |
| ``PAYIN:20.00:float`` | cash put into the drawer (a reason after the amount, if any)        |
| ``PAYOUT:5.00:milk``  | cash taken out of the drawer                                       |
| ``NOSALE``            | opens the drawer without a sale                                    |

A tender without an amount pays what is due; ``PAY:CARD:12.97:AUTH1`` carries a reference.
When the tenders cover what is due the sale completes: :meth:`Register.read` returns it as a
contract ``sale`` (the agent stores it in the outbox under the register's next receipt number,
prints the receipt and opens the drawer on a cash tender). Session and drawer scans come back
as a :class:`TillAction` for the till (till.py) to record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from warehouse import contracts, pricing
from warehouse_drivers import DecodeError, Level, decode_barcode

#: Scan prefixes of the till's own actions, and what each is.
_DRAWER = (
    ("OPEN", "open"),
    ("CLOSE", "close"),
    ("PAYIN", "paid_in"),
    ("PAYOUT", "paid_out"),
    ("NOSALE", "no_sale"),
)


@dataclass
class _Line:
    sku: str
    qty: Decimal
    code: str
    override_minor: int | None = None
    embedded_minor: int | None = None
    discount: pricing.Discount | None = None
    weighed: bool = False


@dataclass
class Completed:
    """A sale rung up to the end, before it has a receipt number."""

    sale_id: str
    basket: pricing.PricedBasket
    settlement: pricing.Settlement
    lines: list[_Line]
    basket_discount: pricing.Discount | None

    def data(self, register: str, receipt_no: int, cashier: str | None) -> contracts.SaleData:
        """The contract ``sale`` with the register's own figures and what the cashier did."""
        basket, paid = self.basket, self.settlement
        return contracts.SaleData.model_validate(
            {
                "sale_id": self.sale_id,
                "register": register,
                "currency": basket.currency,
                "receipt_no": receipt_no,
                "cashier": cashier,
                "lines": [
                    {
                        "sku": line.sku,
                        "code": line.code,
                        "qty": line.qty,
                        "unit_price_minor": priced.unit_price_minor,
                        "discount_minor": priced.gross_minor - priced.total_minor,
                        "unit_price_override_minor": line.override_minor,
                        "embedded_price_minor": line.embedded_minor,
                        "discount_percent": line.discount.percent if line.discount else None,
                        "discount_amount_minor": line.discount.amount_minor
                        if line.discount
                        else None,
                    }
                    for line, priced in zip(self.lines, basket.lines, strict=True)
                ],
                "basket_discount_percent": self.basket_discount.percent
                if self.basket_discount
                else None,
                "basket_discount_amount_minor": self.basket_discount.amount_minor
                if self.basket_discount
                else None,
                "total_minor": basket.total_minor,
                "tenders": [
                    {"kind": t.kind, "amount_minor": t.amount_minor, "reference": t.reference}
                    for t in paid.tenders
                ],
                "change_minor": paid.change_minor,
                "rounding_minor": paid.rounding_minor,
            }
        )

    def receipt(
        self, site: str, register: str, receipt_no: int, at: str, cashier: str | None
    ) -> dict[str, object]:
        """The receipt document (warehouse.receipts) as the register prints it."""
        book_lines = self.basket.to_dict()["lines"]
        return {
            **self.basket.to_dict(),
            **self.settlement.to_dict(),
            "lines": book_lines,
            "site": site,
            "register": register,
            "receipt_no": receipt_no,
            "sale_id": self.sale_id,
            "at": at,
            "cashier": cashier or "",
        }


@dataclass(frozen=True)
class TillAction:
    """A session opened or closed, or the drawer opened without a sale, as scanned."""

    kind: str  # open, close, paid_in, paid_out, no_sale
    amount_minor: int = 0
    reason: str | None = None


@dataclass
class Outcome:
    level: Level = "ok"
    text: str = ""
    completed: Completed | None = None
    action: TillAction | None = None


@dataclass
class Register:
    """One register's basket and tenders (not thread-safe: the agent holds its lock)."""

    book: pricing.PriceBook | None
    rcn_region: str | None = None
    manager_cards: frozenset[str] = frozenset()
    lines: list[_Line] = field(default_factory=list)
    tenders: list[pricing.TenderInput] = field(default_factory=list)
    basket_discount: pricing.Discount | None = None
    next_qty: Decimal | None = None
    manager: bool = False
    _codes: dict[str, str] = field(default_factory=dict)

    def use(self, book: pricing.PriceBook) -> None:
        """A new price book; the basket in progress is priced with it from now on."""
        self.book = book
        self._codes = book.by_code()

    def read(self, code: str) -> Outcome:
        """One scan at the register."""
        code = code.strip()
        if self.book is None:
            return Outcome("error", "no price book yet: the register cannot sell")
        if not self._codes:
            self._codes = self.book.by_code()
        upper = code.upper()
        for prefix, handler in (
            ("QTY:", self._qty),
            ("VOID", self._void),
            ("DISC:", self._discount),
            ("BDISC:", self._basket_discount),
            ("MGR:", self._manager),
            ("PRICE:", self._override),
            ("PAY:", self._pay),
        ):
            if upper.startswith(prefix):
                return handler(code[len(prefix) :].lstrip(":"))
        for prefix, kind in _DRAWER:
            if upper == prefix or upper.startswith(prefix + ":"):
                return self._till_action(kind, code[len(prefix) :].lstrip(":"))
        if upper == "TOTAL":
            return self._total()
        if upper == "CANCEL":
            self._reset()
            return Outcome("warn", "basket cancelled")
        return self._item(code)

    # --- lines ---------------------------------------------------------------------------

    def _item(self, code: str) -> Outcome:
        assert self.book is not None
        try:
            decoded = decode_barcode(code, self.rcn_region)
        except DecodeError as exc:
            return Outcome("error", f"unreadable code: {exc.detail}")
        variable = decoded.variable
        lookup = variable.item if variable else (decoded.gtin or code)
        sku = self.book.sku_for(lookup, self._codes) or self.book.sku_for(code, self._codes)
        if sku is None:
            return Outcome("error", f"{code} is not in the price book")
        if decoded.serial and any(x.code == code for x in self.lines):
            return Outcome("error", f"unit {decoded.serial} of {sku} is in the basket already")
        qty, self.next_qty = self.next_qty or Decimal(1), None
        line = _Line(sku, qty, code)
        if variable is not None and variable.price is not None:
            line.embedded_minor = int(variable.price.scaleb(self.book.exponent))
        elif variable is not None and variable.weight is not None:
            line.qty, line.weighed = variable.weight, True
        last = self.lines[-1] if self.lines else None
        if (
            last is not None
            and last.sku == sku
            and last.code == code  # another code may name another lot or unit
            and not (line.weighed or line.embedded_minor is not None or last.weighed)
            and last.embedded_minor is None
            and last.override_minor is None
            and last.discount is None
        ):
            last.qty += qty
        else:
            self.lines.append(line)
        return self._priced(f"{sku} x {self.lines[-1].qty}")

    def _qty(self, text: str) -> Outcome:
        try:
            qty = Decimal(text)
        except InvalidOperation:
            return Outcome("error", f"bad quantity {text!r}")
        if qty <= 0 or qty > pricing.MAX_UNITS:
            return Outcome("error", f"bad quantity {text!r}")
        self.next_qty = qty
        return Outcome(text=f"quantity {qty} for the next item")

    def _void(self, text: str) -> Outcome:
        if not self.lines:
            return Outcome("error", "nothing to void")
        try:
            index = int(text) - 1 if text else len(self.lines) - 1
        except ValueError:
            return Outcome("error", f"bad line number {text!r}")
        if not 0 <= index < len(self.lines):
            return Outcome("error", f"no line {index + 1}")
        gone = self.lines.pop(index)
        return self._priced(f"voided {gone.sku}") if self.lines else Outcome("warn", "basket empty")

    def _parse_discount(self, text: str) -> pricing.Discount | None:
        try:
            if text.endswith("%"):
                return pricing.Discount(percent=Decimal(text[:-1]))
            return pricing.Discount(amount_minor=self._minor(text))
        except (InvalidOperation, pricing.PricingError, ValueError):
            return None

    def _discount(self, text: str) -> Outcome:
        discount = self._parse_discount(text)
        if discount is None or not self.lines:
            return Outcome("error", f"cannot apply discount {text!r}")
        self.lines[-1].discount = discount
        return self._priced(f"discount {text} on {self.lines[-1].sku}")

    def _basket_discount(self, text: str) -> Outcome:
        discount = self._parse_discount(text)
        if discount is None:
            return Outcome("error", f"cannot apply discount {text!r}")
        self.basket_discount = discount
        return self._priced(f"basket discount {text}")

    def _manager(self, card: str) -> Outcome:
        if card not in self.manager_cards:
            return Outcome("error", "not a manager card")
        self.manager = True
        return Outcome(text="manager: scan PRICE: to override the last line")

    def _override(self, text: str) -> Outcome:
        if not self.manager:
            return Outcome("error", "a price override needs a manager card first")
        if not self.lines:
            return Outcome("error", "nothing to override")
        try:
            self.lines[-1].override_minor = self._minor(text)
        except (InvalidOperation, ValueError):
            return Outcome("error", f"bad price {text!r}")
        self.manager = False
        return self._priced(f"price of {self.lines[-1].sku} set to {text}")

    # --- sessions and the drawer ----------------------------------------------------------

    def _till_action(self, kind: str, text: str) -> Outcome:
        """``OPEN:100.00``, ``CLOSE:312.50``, ``PAYIN:20.00:reason``, ``PAYOUT:...``,
        ``NOSALE``: checked here, recorded by the till."""
        if self.lines and kind in ("open", "close"):
            return Outcome("error", "finish or cancel the basket first")
        amount, _, reason = text.partition(":")
        if kind == "no_sale":
            return Outcome(text="no sale", action=TillAction(kind, 0, text or None))
        if not amount and kind in ("open", "close"):
            amount = "0"
        try:
            minor = self._minor(amount)
        except (InvalidOperation, ValueError):
            return Outcome("error", f"bad amount {amount!r}: {kind.upper()} needs one")
        if minor <= 0 and kind in ("paid_in", "paid_out"):
            return Outcome("error", f"{kind.replace('_', ' ')} needs an amount")
        return Outcome(text=kind.replace("_", " "), action=TillAction(kind, minor, reason or None))

    # --- paying --------------------------------------------------------------------------

    def _minor(self, text: str) -> int:
        assert self.book is not None
        value = Decimal(text).scaleb(self.book.exponent)
        if value != value.to_integral_value() or value < 0:
            raise ValueError(text)
        return int(value)

    def price(self) -> pricing.PricedBasket:
        assert self.book is not None
        return pricing.price_basket(
            self.book,
            [
                pricing.LineInput(x.sku, x.qty, x.override_minor, x.embedded_minor, x.discount)
                for x in self.lines
            ],
            self.basket_discount,
        )

    def _priced(self, text: str) -> Outcome:
        try:
            basket = self.price()
        except pricing.PricingError as exc:
            return Outcome("error", exc.message)
        return Outcome(text=f"{text}; total {basket.total_minor}")

    def _total(self) -> Outcome:
        if not self.lines:
            return Outcome("error", "the basket is empty")
        try:
            basket = self.price()
        except pricing.PricingError as exc:
            return Outcome("error", exc.message)
        paid = sum(t.amount_minor for t in self.tenders)
        return Outcome(text=f"total {basket.total_minor}, paid {paid}")

    def _pay(self, text: str) -> Outcome:
        if not self.lines:
            return Outcome("error", "the basket is empty")
        parts = text.split(":", 2)
        kind = parts[0].lower()
        if kind not in pricing.TENDER_KINDS:
            return Outcome("error", f"unknown tender {parts[0]!r}")
        assert self.book is not None
        try:
            basket = self.price()
            paid = sum(t.amount_minor for t in self.tenders)
            due = basket.total_minor - paid
            if kind == "cash":
                due = pricing.round_cash(due, self.book.cash_step_minor)
            amount = self._minor(parts[1]) if len(parts) > 1 and parts[1] else due
        except (InvalidOperation, ValueError):
            return Outcome("error", f"bad amount in {text!r}")
        except pricing.PricingError as exc:
            return Outcome("error", exc.message)
        if amount <= 0:
            return Outcome("error", "nothing is due")
        self.tenders.append(pricing.TenderInput(kind, amount, parts[2] if len(parts) > 2 else None))
        try:
            settlement = pricing.settle(basket.total_minor, self.tenders, self.book.cash_step_minor)
        except pricing.PricingError as exc:
            if "short" in exc.message:
                return Outcome(text=exc.message)
            self.tenders.pop()
            return Outcome("error", exc.message)
        done = Completed(
            str(uuid.uuid4()), basket, settlement, list(self.lines), self.basket_discount
        )
        self._reset()
        return Outcome(text=f"paid; change {settlement.change_minor}", completed=done)

    def _reset(self) -> None:
        self.lines, self.tenders = [], []
        self.basket_discount, self.next_qty, self.manager = None, None, False
