"""The pricing engine: one pure package that prices a basket the same way at the register and in
the service (standard library only; the edge agent imports it too). Its parts: money.py (minor
units, rounding), book.py (the price book), lines.py, promotions.py, tax.py, basket.py (a basket
priced) and tender.py (paying it).

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

from warehouse.pricing.basket import PricedBasket, price_basket
from warehouse.pricing.book import PROMOTION_KINDS, Item, PriceBook, Promotion, PromotionKind
from warehouse.pricing.lines import Discount, LineInput, PricedLine
from warehouse.pricing.money import PricingError, plain, round_minor
from warehouse.pricing.promotions import MAX_UNITS
from warehouse.pricing.tax import TaxLine
from warehouse.pricing.tender import TENDER_KINDS, Settlement, TenderInput, round_cash, settle

__all__ = [
    "MAX_UNITS",
    "PROMOTION_KINDS",
    "TENDER_KINDS",
    "Discount",
    "Item",
    "LineInput",
    "PriceBook",
    "PricedBasket",
    "PricedLine",
    "PricingError",
    "Promotion",
    "PromotionKind",
    "Settlement",
    "TaxLine",
    "TenderInput",
    "plain",
    "price_basket",
    "round_cash",
    "round_minor",
    "settle",
]
