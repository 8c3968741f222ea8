"""The pricing engine: one pure module that prices a basket the same way at the register and in
the service (standard library only; the edge agent imports it too).

Money is integer minor units (cents) throughout; quantities are Decimals (kilograms for weighed
goods). The rules, in the order they apply:

1. **Line price.** A price-embedded barcode fixes the line's amount; otherwise the unit price
   (the book's, or an override) times the quantity, rounded half away from zero to the minor unit.
2. **Promotions**, in the book's order, over whole units of lines that carry neither an override
   nor an embedded price; a unit takes part in one promotion at most, the dearest units first.
   ``multibuy``: every ``qty`` units of the listed products (mixed freely) cost ``price_minor``.
   ``buy_x_get_y``: of every ``qty + get`` units, the ``get`` cheapest are free. ``bundle``: one
   of each listed product costs ``price_minor`` together. A promotion's discount is spread over
   the units it took in proportion to their price (largest remainder, so the cents add up).
3. **Line discount**: a percentage of what is left of the line (rounded half away from zero) or
   an amount, never more than what is left.
4. **Basket discount**: a percentage of the basket or an amount, spread over the lines in
   proportion to what is left of each (largest remainder).
5. **Tax** per rate, on the sum of the lines at that rate (one rounding per rate, not per line):
   prices that include tax carry ``round(gross * r / (100 + r))``; prices without tax get
   ``round(net * r / 100)`` added.
6. **Tendering.** Card, voucher and other tenders pay exactly; what cash pays is rounded to the
   book's cash step (half up, e.g. to 0.05), the difference recorded as ``rounding_minor``. Only
   cash gives change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

PromotionKind = Literal["multibuy", "buy_x_get_y", "bundle"]
PROMOTION_KINDS: tuple[str, ...] = ("multibuy", "buy_x_get_y", "bundle")
TENDER_KINDS: tuple[str, ...] = ("cash", "card", "voucher", "other")
#: A promotion counts whole units; a line of more than this many cannot be one till line.
MAX_UNITS = 100_000


class PricingError(ValueError):
    """A basket or tender that cannot be priced; ``line`` is the 0-based line it concerns."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field


def plain(value: Decimal) -> str:
    """A Decimal as plain digits without trailing zeros: ``20`` (not ``2E+1``), ``7.5``."""
    return format(value.normalize(), "f")


def round_minor(value: Decimal) -> int:
    """Round to a whole minor unit, half away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Item:
    """A product as the price book sells it."""

    sku: str
    unit_price_minor: int
    tax_category: str = "standard"
    name: str = ""
    codes: tuple[str, ...] = ()  # GTINs and other codes it is scanned by


@dataclass(frozen=True, slots=True)
class Promotion:
    code: str
    kind: PromotionKind
    skus: tuple[str, ...]
    qty: int = 1  # multibuy: units per group; buy_x_get_y: units bought
    get: int = 0  # buy_x_get_y: units free per group
    price_minor: int = 0  # multibuy and bundle: what a group costs


@dataclass(frozen=True, slots=True)
class PriceBook:
    """What a site sells, at what price and tax, on one day."""

    currency: str
    items: Mapping[str, Item]
    tax_rates: Mapping[str, Decimal]  # category -> percent
    exponent: int = 2
    tax_inclusive: bool = True
    cash_step_minor: int = 1
    promotions: tuple[Promotion, ...] = ()
    valid_on: date | None = None
    version: str = ""

    def item(self, sku: str) -> Item | None:
        return self.items.get(sku)

    def by_code(self) -> dict[str, str]:
        """Code -> SKU, for a register that looks scans up (GTINs as 14 digits)."""
        return {code: item.sku for item in self.items.values() for code in item.codes}

    def sku_for(self, code: str, codes: Mapping[str, str] | None = None) -> str | None:
        """The SKU a scanned code (a GTIN-8/12/13/14, an alias or the SKU itself) names."""
        codes = self.by_code() if codes is None else codes
        if code in codes:
            return codes[code]
        if code.isdigit() and len(code) in (8, 12, 13) and code.zfill(14) in codes:
            return codes[code.zfill(14)]
        return code if code in self.items else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "exponent": self.exponent,
            "tax_inclusive": self.tax_inclusive,
            "cash_step_minor": self.cash_step_minor,
            "valid_on": self.valid_on.isoformat() if self.valid_on else None,
            "version": self.version,
            "tax_rates": {k: plain(v) for k, v in sorted(self.tax_rates.items())},
            "items": [
                {
                    "sku": i.sku,
                    "unit_price_minor": i.unit_price_minor,
                    "tax_category": i.tax_category,
                    "name": i.name,
                    "codes": list(i.codes),
                }
                for i in sorted(self.items.values(), key=lambda i: i.sku)
            ],
            "promotions": [
                {
                    "code": p.code,
                    "kind": p.kind,
                    "skus": list(p.skus),
                    "qty": p.qty,
                    "get": p.get,
                    "price_minor": p.price_minor,
                }
                for p in self.promotions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceBook:
        try:
            items = {
                i["sku"]: Item(
                    i["sku"],
                    int(i["unit_price_minor"]),
                    i.get("tax_category", "standard"),
                    i.get("name", ""),
                    tuple(i.get("codes", ())),
                )
                for i in data["items"]
            }
            promotions = tuple(
                Promotion(
                    p["code"],
                    p["kind"],
                    tuple(p["skus"]),
                    int(p.get("qty", 1)),
                    int(p.get("get", 0)),
                    int(p.get("price_minor", 0)),
                )
                for p in data.get("promotions", ())
            )
            valid_on = data.get("valid_on")
            return cls(
                currency=data["currency"],
                items=items,
                tax_rates={k: Decimal(v) for k, v in data["tax_rates"].items()},
                exponent=int(data.get("exponent", 2)),
                tax_inclusive=bool(data.get("tax_inclusive", True)),
                cash_step_minor=int(data.get("cash_step_minor", 1)),
                promotions=promotions,
                valid_on=date.fromisoformat(valid_on) if valid_on else None,
                version=str(data.get("version", "")),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise PricingError(f"not a price book: {exc!r}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PriceBook:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PricingError(f"not a price book: {exc.msg}") from None


@dataclass(frozen=True, slots=True)
class Discount:
    """A percentage (``Decimal("10")`` is 10 %) or an amount in minor units; one of the two."""

    percent: Decimal | None = None
    amount_minor: int | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.amount_minor is None):
            raise PricingError("a discount is a percent or an amount, one of the two")
        if self.percent is not None and not Decimal(0) <= self.percent <= Decimal(100):
            raise PricingError("a discount percent lies between 0 and 100")
        if self.amount_minor is not None and self.amount_minor < 0:
            raise PricingError("a discount amount is not negative")

    def of(self, amount: int) -> int:
        if self.percent is not None:
            return min(amount, round_minor(amount * self.percent / 100))
        assert self.amount_minor is not None
        return min(amount, self.amount_minor)


@dataclass(frozen=True, slots=True)
class LineInput:
    """A basket line as rung up: the product, how many (or how heavy), and what the cashier
    changed. ``embedded_price_minor`` comes from a price-embedded barcode."""

    sku: str
    qty: Decimal = Decimal(1)
    unit_price_override_minor: int | None = None
    embedded_price_minor: int | None = None
    discount: Discount | None = None


@dataclass(slots=True)
class PricedLine:
    sku: str
    qty: Decimal
    unit_price_minor: int
    tax_category: str
    tax_rate: Decimal
    gross_minor: int  # before any discount
    promotion_minor: int = 0
    discount_minor: int = 0  # line and the line's share of the basket discount
    promotions: list[str] = field(default_factory=list)
    overridden: bool = False
    units_promoted: int = 0  # whole units already taken by a promotion

    @property
    def total_minor(self) -> int:
        """What the line costs after every discount (tax included when the book's prices are)."""
        return self.gross_minor - self.promotion_minor - self.discount_minor


@dataclass(frozen=True, slots=True)
class TaxLine:
    category: str
    rate: Decimal
    base_minor: int  # net of tax
    tax_minor: int


@dataclass(frozen=True, slots=True)
class PricedBasket:
    currency: str
    lines: tuple[PricedLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal_minor: int  # the lines before any discount
    discount_minor: int  # promotions, line and basket discounts
    tax_minor: int
    total_minor: int  # what the customer owes
    tax_inclusive: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "subtotal_minor": self.subtotal_minor,
            "discount_minor": self.discount_minor,
            "tax_minor": self.tax_minor,
            "total_minor": self.total_minor,
            "tax_inclusive": self.tax_inclusive,
            "lines": [
                {
                    "sku": ln.sku,
                    "qty": plain(ln.qty),
                    "unit_price_minor": ln.unit_price_minor,
                    "gross_minor": ln.gross_minor,
                    "promotion_minor": ln.promotion_minor,
                    "discount_minor": ln.discount_minor,
                    "total_minor": ln.total_minor,
                    "tax_category": ln.tax_category,
                    "tax_rate": plain(ln.tax_rate),
                    "promotions": list(ln.promotions),
                    "overridden": ln.overridden,
                }
                for ln in self.lines
            ],
            "taxes": [
                {
                    "category": t.category,
                    "rate": plain(t.rate),
                    "base_minor": t.base_minor,
                    "tax_minor": t.tax_minor,
                }
                for t in self.taxes
            ],
        }


def price_basket(
    book: PriceBook, lines: Sequence[LineInput], basket_discount: Discount | None = None
) -> PricedBasket:
    """Price ``lines`` with ``book``; raise :class:`PricingError` naming the line that cannot be."""
    if not lines:
        raise PricingError("a basket has at least one line", field="lines")
    priced = [_line(book, index, line) for index, line in enumerate(lines)]
    for promotion in book.promotions:
        _promote(promotion, priced, lines)
    for index, line in enumerate(lines):
        if line.discount is not None:
            priced[index].discount_minor += line.discount.of(priced[index].total_minor)
    if basket_discount is not None:
        left = [p.total_minor for p in priced]
        share = _spread(basket_discount.of(sum(left)), left)
        for p, amount in zip(priced, share, strict=True):
            p.discount_minor += amount
    taxes = _taxes(priced, book.tax_inclusive)
    subtotal = sum(p.gross_minor for p in priced)
    after = sum(p.total_minor for p in priced)
    tax = sum(t.tax_minor for t in taxes)
    return PricedBasket(
        currency=book.currency,
        lines=tuple(priced),
        taxes=taxes,
        subtotal_minor=subtotal,
        discount_minor=subtotal - after,
        tax_minor=tax,
        total_minor=after if book.tax_inclusive else after + tax,
        tax_inclusive=book.tax_inclusive,
    )


def _line(book: PriceBook, index: int, line: LineInput) -> PricedLine:
    item = book.item(line.sku)
    if item is None:
        raise PricingError(f"line {index + 1}: {line.sku!r} has no price", line=index, field="sku")
    if line.qty <= 0:
        raise PricingError(f"line {index + 1}: the quantity must be positive", line=index)
    rate = book.tax_rates.get(item.tax_category)
    if rate is None:
        raise PricingError(
            f"line {index + 1}: tax category {item.tax_category!r} has no rate", line=index
        )
    unit = item.unit_price_minor
    if line.unit_price_override_minor is not None:
        if line.unit_price_override_minor < 0:
            raise PricingError(f"line {index + 1}: a price is not negative", line=index)
        unit = line.unit_price_override_minor
    if line.embedded_price_minor is not None:
        gross = line.embedded_price_minor
    else:
        gross = round_minor(unit * line.qty)
    return PricedLine(
        sku=item.sku,
        qty=line.qty,
        unit_price_minor=unit,
        tax_category=item.tax_category,
        tax_rate=rate,
        gross_minor=gross,
        overridden=line.unit_price_override_minor is not None,
    )


@dataclass(slots=True)
class _Run:
    """Units of one line not yet taken by a promotion, all at one price."""

    line: int
    price: int
    left: int


def _runs(promotion: Promotion, priced: list[PricedLine], lines: Sequence[LineInput]) -> list[_Run]:
    runs = []
    for index, (p, line) in enumerate(zip(priced, lines, strict=True)):
        if (
            p.sku in promotion.skus
            and line.embedded_price_minor is None
            and not p.overridden
            and line.qty == line.qty.to_integral_value()
        ):
            units = int(line.qty)
            if units > MAX_UNITS:
                raise PricingError(f"line {index + 1}: more than {MAX_UNITS} units", line=index)
            if units > p.units_promoted:
                runs.append(_Run(index, p.unit_price_minor, units - p.units_promoted))
    runs.sort(key=lambda r: (-r.price, r.line))
    return runs


def _promote(promotion: Promotion, priced: list[PricedLine], lines: Sequence[LineInput]) -> None:
    if promotion.kind == "bundle":
        _bundle(promotion, priced, lines)
        return
    size = promotion.qty + (promotion.get if promotion.kind == "buy_x_get_y" else 0)
    if size < 1 or (promotion.kind == "buy_x_get_y" and promotion.get < 1):
        return
    runs = _runs(promotion, priced, lines)
    for count, group in _groups(runs, size):
        if promotion.kind == "multibuy":
            regular = sum(r.price * n for r, n in group)
            discount = regular - promotion.price_minor
            if discount <= 0:
                continue
            shares = _spread(discount, [r.price * n for r, n in group])
        else:  # the cheapest `get` units of the group are free: they come last
            free = promotion.get
            shares = [0] * len(group)
            for position in range(len(group) - 1, -1, -1):
                run, n = group[position]
                take = min(n, free)
                shares[position] = run.price * take
                free -= take
                if not free:
                    break
        for (run, n), share in zip(group, shares, strict=True):
            p = priced[run.line]
            p.units_promoted += n * count
            p.promotion_minor += share * count
            if share and promotion.code not in p.promotions:
                p.promotions.append(promotion.code)


def _groups(runs: list[_Run], size: int) -> Iterator[tuple[int, list[tuple[_Run, int]]]]:
    """Groups of ``size`` units taken from ``runs`` (dearest first), as (how many alike, the
    group's units per run); whole groups within one run come out as one."""
    group: list[tuple[_Run, int]] = []
    need = size
    for run in runs:
        while run.left:
            if not group and run.left >= size:
                alike = run.left // size
                run.left -= alike * size
                yield alike, [(run, size)]
                continue
            take = min(run.left, need)
            run.left -= take
            group.append((run, take))
            need -= take
            if not need:
                yield 1, group
                group, need = [], size


def _bundle(promotion: Promotion, priced: list[PricedLine], lines: Sequence[LineInput]) -> None:
    runs = _runs(promotion, priced, lines)
    by_sku: dict[str, list[_Run]] = {}
    for run in runs:
        by_sku.setdefault(priced[run.line].sku, []).append(run)
    if any(sku not in by_sku for sku in promotion.skus):
        return
    while all(any(r.left for r in by_sku[sku]) for sku in promotion.skus):
        group = [next(r for r in by_sku[sku] if r.left) for sku in promotion.skus]
        regular = sum(r.price for r in group)
        discount = regular - promotion.price_minor
        if discount <= 0:
            return
        for run, share in zip(group, _spread(discount, [r.price for r in group]), strict=True):
            run.left -= 1
            p = priced[run.line]
            p.units_promoted += 1
            p.promotion_minor += share
            if promotion.code not in p.promotions:
                p.promotions.append(promotion.code)


def _spread(amount: int, weights: Sequence[int]) -> list[int]:
    """``amount`` split in proportion to ``weights``, whole minor units that add up to it
    (largest remainder; ties to the earlier weight)."""
    total = sum(weights)
    if total <= 0 or amount == 0:
        return [0] * len(weights)
    exact = [Decimal(amount) * w / total for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def _taxes(priced: Iterable[PricedLine], inclusive: bool) -> tuple[TaxLine, ...]:
    sums: dict[tuple[str, Decimal], int] = {}
    for p in priced:
        key = (p.tax_category, p.tax_rate)
        sums[key] = sums.get(key, 0) + p.total_minor
    out = []
    for (category, rate), amount in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if inclusive:
            tax = round_minor(amount * rate / (100 + rate))
            out.append(TaxLine(category, rate, amount - tax, tax))
        else:
            tax = round_minor(amount * rate / 100)
            out.append(TaxLine(category, rate, amount, tax))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TenderInput:
    kind: str
    amount_minor: int  # what the customer handed over (cash) or what was charged
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a basket was paid: what each tender paid, the change, and the cash rounding."""

    tenders: tuple[TenderInput, ...]  # the amounts each tender paid (cash: net of change)
    change_minor: int
    rounding_minor: int  # cash rounding: + the customer paid more than the total, - less
    paid_minor: int  # the total as rounded for cash

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenders": [
                {"kind": t.kind, "amount_minor": t.amount_minor, "reference": t.reference}
                for t in self.tenders
            ],
            "change_minor": self.change_minor,
            "rounding_minor": self.rounding_minor,
            "paid_minor": self.paid_minor,
        }


def round_cash(amount: int, step: int) -> int:
    """``amount`` to the nearest multiple of ``step`` (half up)."""
    if step <= 1:
        return amount
    return round_minor(Decimal(amount) / step) * step


def settle(total_minor: int, tenders: Sequence[TenderInput], cash_step_minor: int) -> Settlement:
    """Apply ``tenders`` to ``total_minor``: exact tenders first, cash last with change."""
    if not tenders:
        raise PricingError("a sale is paid by at least one tender", field="tenders")
    for index, tender in enumerate(tenders):
        if tender.kind not in TENDER_KINDS:
            raise PricingError(f"tender {index + 1}: unknown kind {tender.kind!r}", field="tenders")
        if tender.amount_minor <= 0:
            raise PricingError(f"tender {index + 1}: the amount must be positive", field="tenders")
    exact = [t for t in tenders if t.kind != "cash"]
    cash = [t for t in tenders if t.kind == "cash"]
    by_exact = sum(t.amount_minor for t in exact)
    if by_exact > total_minor:
        raise PricingError(
            f"card, voucher and other tenders pay {by_exact} of {total_minor}: "
            "only cash gives change",
            field="tenders",
        )
    due = total_minor - by_exact
    rounded_due = round_cash(due, cash_step_minor) if cash else due
    handed = sum(t.amount_minor for t in cash)
    if handed < rounded_due or (not cash and due):
        raise PricingError(
            f"the tenders are short by {rounded_due - handed} of {total_minor}", field="tenders"
        )
    change = handed - rounded_due
    paid: list[TenderInput] = list(exact)
    if cash:
        kept = rounded_due
        for tender in cash:  # change comes out of the last cash tender(s)
            amount = min(tender.amount_minor, kept)
            kept -= amount
            if amount:
                paid.append(TenderInput("cash", amount, tender.reference))
    return Settlement(tuple(paid), change, rounded_due - due, by_exact + rounded_due)
