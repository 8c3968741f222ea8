"""Which stock goes first when goods leave: first expiry first (FEFO) for goods with an expiry,
otherwise first in, first out (FIFO), and never a lot past its expiry. Sales orders reserve by
this rule and registers sell by it. Pure functions over plain records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Bin:
    """Stock of one product at one location and lot that could be taken."""

    location_id: int
    location_code: str
    lot: str
    available: Decimal
    expiry: date | None = None  # the lot's expiry, for FEFO
    since: datetime | None = None  # when the stock (or its lot) first arrived, for FIFO

    def expired(self, on: date) -> bool:
        """Whether the lot is past its expiry on ``on`` (it may still be sold on the day)."""
        return self.expiry is not None and self.expiry < on


def pick_order(bins: Sequence[Bin], *, fefo: bool) -> list[Bin]:
    """The order stock is taken in: first expiry first (FEFO) for products with an expiry,
    otherwise first in, first out (FIFO); ties by location code."""
    far_date, far_time = date.max, datetime.max
    if fefo:
        return sorted(
            bins,
            key=lambda b: (
                b.expiry or far_date,
                (b.since or far_time).replace(tzinfo=None),
                b.location_code,
                b.lot,
            ),
        )
    return sorted(
        bins,
        key=lambda b: ((b.since or far_time).replace(tzinfo=None), b.location_code, b.lot),
    )


def allocate(
    qty: Decimal, bins: Sequence[Bin], *, fefo: bool
) -> tuple[list[tuple[Bin, Decimal]], Decimal]:
    """Take ``qty`` from ``bins`` in pick order; return (bin, qty) pairs and the shortfall."""
    taken: list[tuple[Bin, Decimal]] = []
    left = qty
    for candidate in pick_order(bins, fefo=fefo):
        if left <= 0:
            break
        part = min(left, candidate.available)
        if part > 0:
            taken.append((candidate, part))
            left -= part
    return taken, left
