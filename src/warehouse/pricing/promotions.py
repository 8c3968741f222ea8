"""Promotions over whole units of a basket's lines: ``multibuy``, ``buy_x_get_y`` and ``bundle``,
dearest units first, each unit in one promotion at most, the discount spread over the units
in proportion to their price."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from warehouse.pricing.book import Promotion
from warehouse.pricing.lines import LineInput, PricedLine
from warehouse.pricing.money import PricingError, spread

#: A promotion counts whole units; a line of more than this many cannot be one till line.
MAX_UNITS = 100_000


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


def promote(promotion: Promotion, priced: list[PricedLine], lines: Sequence[LineInput]) -> None:
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
            shares = spread(discount, [r.price * n for r, n in group])
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
        for run, share in zip(group, spread(discount, [r.price for r in group]), strict=True):
            run.left -= 1
            p = priced[run.line]
            p.units_promoted += 1
            p.promotion_minor += share
            if promotion.code not in p.promotions:
                p.promotions.append(promotion.code)
