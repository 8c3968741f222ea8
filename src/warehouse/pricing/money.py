"""Money in whole minor units (cents): rounding half away from zero, amounts split in proportion
without losing a cent, decimals shown plainly, and the error every pricing step raises."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


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


def spread(amount: int, weights: Sequence[int]) -> list[int]:
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
