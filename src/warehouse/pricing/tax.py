"""Tax per rate on the sum of a basket's lines at that rate (one rounding per rate, not per
line): included in the price, or added to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from warehouse.pricing.lines import PricedLine
from warehouse.pricing.money import round_minor


@dataclass(frozen=True, slots=True)
class TaxLine:
    category: str
    rate: Decimal
    base_minor: int  # net of tax
    tax_minor: int


def tax_lines(priced: Iterable[PricedLine], inclusive: bool) -> tuple[TaxLine, ...]:
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
