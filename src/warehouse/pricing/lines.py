"""Basket lines: as rung up (product, quantity, what the cashier changed) and as priced."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from warehouse.pricing.money import PricingError, round_minor


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
