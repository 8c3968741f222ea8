"""A basket priced: line prices, promotions, line and basket discounts, then tax."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from warehouse.pricing.book import PriceBook
from warehouse.pricing.lines import Discount, LineInput, PricedLine
from warehouse.pricing.money import PricingError, plain, round_minor, spread
from warehouse.pricing.promotions import promote
from warehouse.pricing.tax import TaxLine, tax_lines


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
        promote(promotion, priced, lines)
    for index, line in enumerate(lines):
        if line.discount is not None:
            priced[index].discount_minor += line.discount.of(priced[index].total_minor)
    if basket_discount is not None:
        left = [p.total_minor for p in priced]
        share = spread(basket_discount.of(sum(left)), left)
        for p, amount in zip(priced, share, strict=True):
            p.discount_minor += amount
    taxes = tax_lines(priced, book.tax_inclusive)
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
