"""Costing rules: layers, deficits, and the value each movement takes or brings. Standard
library only.

A *position* is one product's stock value at one site, as layers oldest first: many for FIFO,
one for moving average and for standard cost. When more leaves than the layers hold (negative
stock is a policy, and floor events are never refused), the shortfall is valued at the last
known unit cost and kept as a *deficit*, a layer of negative quantity; the next receipt fills it
first, and the difference between its cost and the estimate is an ``adjustment`` entry. A
position holds either positive layers or one deficit, never both.

Every entry's ``value`` is the change it makes to the site's stock value, in integer minor
units, so a site's value at any moment is the sum of its entries up to then (the valuation
identity). Rounding: an incoming value is ``qty x unit cost`` rounded half-even to the minor
unit; a part of a layer takes ``layer value x part / layer qty`` rounded the same way, and the
last part of a layer takes exactly what is left of it, so parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from warehouse.core.errors import OutOfRange


class Method(StrEnum):
    """How a product's outgoing stock is costed."""

    FIFO = "fifo"  # the oldest layer's cost first
    AVERAGE = "average"  # moving (perpetual) weighted average
    STANDARD = "standard"  # a set cost; purchase price differences are variances


#: The method of a product that names none (docs/valuation.md says why).
DEFAULT_METHOD = Method.FIFO


class EntryKind(StrEnum):
    """Why a site's stock value changed; the counterpart of the movement says which."""

    RECEIPT = "receipt"  # from a supplier (negative: sent back to one)
    COGS = "cogs"  # sold or shipped to a customer (positive: returned by one)
    WRITEOFF = "writeoff"  # scrapped, lost, counted short (positive: found, counted over)
    TRANSFER_OUT = "transfer_out"  # to another site or in transit
    TRANSFER_IN = "transfer_in"  # from another site or from transit
    ADJUSTMENT = "adjustment"  # a deficit filled at a cost other than its estimate
    REVALUATION = "revaluation"  # stock on hand restated at a new standard cost


class Source(StrEnum):
    """Where the cost of an entry came from (recorded on it)."""

    PO = "po"  # the purchase order line's unit cost
    STANDARD = "standard"  # the product's standard cost
    LAST = "last"  # the last unit cost known at the site
    NONE = "none"  # no cost known anywhere: zero, and said so
    LAYERS = "layers"  # taken from the position's layers (FIFO, average, standard)
    ESTIMATE = "estimate"  # more left than there was: the shortfall at the last cost known
    TRANSFER = "transfer"  # what the goods were worth where they came from
    SALE = "sale"  # a return, at what its sale cost


ZERO = Decimal(0)
#: The largest value the books hold, in minor units (a signed 64-bit column, with room).
MAX_VALUE = 10**18


def to_minor(amount: Decimal, field: str = "qty") -> int:
    """An amount of minor units, rounded half-even to a whole one; beyond what the books hold
    (a quantity times a cost too large) it is refused, naming ``field``."""
    value = int(amount.to_integral_value(rounding=ROUND_HALF_EVEN))
    if abs(value) > MAX_VALUE:
        raise OutOfRange(
            f"a value of {value} minor units is beyond what the books hold ({MAX_VALUE})",
            field=field,
        )
    return value


def part_of(value: int, part: Decimal, whole: Decimal) -> int:
    """The value of ``part`` of a layer of ``whole`` units worth ``value`` (exact when whole)."""
    if part == whole:
        return value
    return to_minor(Decimal(value) * part / whole)


@dataclass(slots=True, eq=False)
class Layer:
    """Units received together at one cost (or a deficit, with negative quantity and value)."""

    qty: Decimal
    value: int
    unit_cost: Decimal  # minor units per unit when it was made; kept when it empties


@dataclass(slots=True)
class Position:
    """A product's layers at a site, oldest first, and how they are costed.

    The newest layer stays (empty) after it is used up, so the last unit cost is never lost."""

    product_id: int
    site: str
    method: Method
    standard: int | None = None  # minor units per unit, for Method.STANDARD
    layers: list[Layer] = field(default_factory=list)

    @property
    def qty(self) -> Decimal:
        return sum((layer.qty for layer in self.layers), ZERO)

    @property
    def value(self) -> int:
        return sum(layer.value for layer in self.layers)

    def merge(self) -> None:
        """One layer for moving average and standard cost (after a change of method)."""
        if self.method is Method.FIFO or len(self.layers) < 2:
            return
        qty, value = self.qty, self.value
        last = self.layers[-1]
        last.qty, last.value = qty, value
        if qty:
            last.unit_cost = Decimal(value) / qty
        self.layers = [last]

    def revalue(self, standard: int) -> int:
        """Restate the position at ``standard`` per unit; return the change of its value."""
        self.method, self.standard = Method.STANDARD, standard
        self.merge()
        if not self.layers:
            return 0
        layer = self.layers[-1]
        before = layer.value
        layer.value = to_minor(layer.qty * standard, "standard_cost_minor")
        layer.unit_cost = Decimal(standard)
        return layer.value - before

    def last_cost(self) -> tuple[Decimal, Source]:
        """The unit cost a shortfall or an uncosted arrival is valued at."""
        if self.method is Method.STANDARD and self.standard is not None:
            return Decimal(self.standard), Source.STANDARD
        if self.layers:
            return self.layers[-1].unit_cost, Source.LAST
        if self.standard is not None:
            return Decimal(self.standard), Source.STANDARD
        return ZERO, Source.NONE

    def take(self, qty: Decimal) -> tuple[int, Source]:
        """Take ``qty`` out: the value it had, from the layers oldest first, and the shortfall
        (if any) at the last cost known, kept as a deficit."""
        value, left = 0, qty
        source = Source.LAYERS
        for layer in self.layers:
            if left <= 0:
                break
            if layer.qty <= 0:
                continue
            part = min(left, layer.qty)
            taken = part_of(layer.value, part, layer.qty)
            layer.qty -= part
            layer.value -= taken
            value += taken
            left -= part
        if left > 0:
            unit, _ = self.last_cost()
            short = to_minor(left * unit)
            deficit = self._deficit(unit)
            deficit.qty -= left
            deficit.value -= short
            value += short
            source = Source.ESTIMATE
        self._tidy()
        return value, source

    def put(self, qty: Decimal, value: int) -> int:
        """Bring ``qty`` worth ``value`` in; return the adjustment (the change of the stock
        value beyond ``value``) when it fills a deficit valued at another cost."""
        unit = Decimal(value) / qty if qty else ZERO
        adjustment = 0
        deficit = next((layer for layer in self.layers if layer.qty < 0), None)
        if deficit is not None:
            fill = min(qty, -deficit.qty)
            at_cost = part_of(value, fill, qty)
            estimate = part_of(deficit.value, -fill, deficit.qty)  # negative: what was expensed
            deficit.qty += fill
            deficit.value -= estimate
            adjustment = -at_cost - estimate  # the stock value the filled units do not add
            qty, value = qty - fill, value - at_cost
            deficit.unit_cost = unit
        if qty > 0:
            self._add(qty, value, unit)
        elif self.layers:
            self.layers[-1].unit_cost = unit
        self._tidy()
        return adjustment

    def _add(self, qty: Decimal, value: int, unit: Decimal) -> None:
        last = self.layers[-1] if self.layers else None
        if last is not None and (self.method is not Method.FIFO or last.qty == 0):
            last.qty += qty  # one layer: the average moves; an empty layer is reused
            last.value += value
            last.unit_cost = Decimal(last.value) / last.qty if last.qty else unit
        elif last is not None and last.unit_cost == unit:
            last.qty += qty  # the same cost as the newest layer: FIFO order is unchanged
            last.value += value
        else:
            self.layers.append(Layer(qty, value, unit))

    def _deficit(self, unit: Decimal) -> Layer:
        for layer in self.layers:
            if layer.qty < 0:
                return layer
        empty = self.layers[-1] if self.layers and self.layers[-1].qty == 0 else None
        if empty is not None:
            return empty
        layer = Layer(ZERO, 0, unit)
        self.layers.append(layer)
        return layer

    def _tidy(self) -> None:
        """Drop used-up layers but the newest (it keeps the last cost)."""
        if not self.layers:
            return
        keep = [layer for layer in self.layers[:-1] if layer.qty != 0 or layer.value != 0]
        keep.append(self.layers[-1])
        self.layers = keep


@dataclass(slots=True)
class Flow:
    """A movement as costing sees it: a quantity leaving one site's stock and/or entering
    another's, with what is known about its cost from outside."""

    index: int  # the movement's place in what was posted
    product_id: int
    qty: Decimal
    out_site: str | None  # the site the stock leaves (None: it leaves no site)
    out_kind: EntryKind | None
    in_site: str | None  # the site it enters
    in_kind: EntryKind | None
    ref: str | None = None  # the order, transfer or sale it belongs to
    unit_cost: Decimal | None = None  # known from outside (a purchase order line)


@dataclass(slots=True)
class Entry:
    """A change of one site's stock value, and why."""

    index: int
    product_id: int
    site: str
    kind: EntryKind
    qty: Decimal  # into the site (+) or out of it (-)
    value: int  # the change of the site's stock value, minor units
    source: Source
    ref: str | None = None
    variance: int = 0  # standard cost: actual - standard of what came in (an expense)


#: Origins of the cost of arrivals that carry it from where they left: (ref, product) ->
#: (qty, value) of what left, for transfers in transit and sales returned.
Origins = dict[tuple[str, int], tuple[Decimal, int]]


def cost(
    flows: Iterable[Flow],
    positions: dict[tuple[int, str], Position],
    transfers: Origins,
    sales: Origins,
) -> list[Entry]:
    """The entries of ``flows`` in order, updating ``positions``; ``transfers`` and ``sales``
    are what left earlier under each ref (and learn what leaves now)."""
    entries: list[Entry] = []
    for flow in flows:
        out_value: int | None = None
        if flow.out_site is not None and flow.out_kind is not None:
            here = positions[(flow.product_id, flow.out_site)]
            out_value, source = here.take(flow.qty)
            entries.append(
                _entry(flow, flow.out_site, flow.out_kind, -flow.qty, -out_value, source)
            )
            _learn(flow, out_value, transfers, sales)
        if flow.in_site is not None and flow.in_kind is not None:
            there = positions[(flow.product_id, flow.in_site)]
            entries.extend(_arrive(flow, there, out_value, transfers, sales))
    return entries


def _learn(flow: Flow, value: int, transfers: Origins, sales: Origins) -> None:
    if flow.ref is None:
        return
    book = transfers if flow.out_kind is EntryKind.TRANSFER_OUT else sales
    if flow.out_kind in (EntryKind.TRANSFER_OUT, EntryKind.COGS):
        qty, total = book.get((flow.ref, flow.product_id), (ZERO, 0))
        book[(flow.ref, flow.product_id)] = (qty + flow.qty, total + value)


def _arrive(
    flow: Flow, there: Position, out_value: int | None, transfers: Origins, sales: Origins
) -> list[Entry]:
    assert flow.in_site is not None
    assert flow.in_kind is not None
    actual, source = _incoming(flow, there, out_value, transfers, sales)
    value = actual
    variance = 0
    if there.method is Method.STANDARD and there.standard is not None:
        value = to_minor(flow.qty * there.standard)
        variance = actual - value
    adjustment = there.put(flow.qty, value)
    made = [_entry(flow, flow.in_site, flow.in_kind, flow.qty, value, source, variance)]
    if adjustment:
        made.append(_entry(flow, flow.in_site, EntryKind.ADJUSTMENT, ZERO, adjustment, source))
    return made


def _incoming(
    flow: Flow, there: Position, out_value: int | None, transfers: Origins, sales: Origins
) -> tuple[int, Source]:
    """What arriving units are worth: the value they left with (site to site), their purchase
    cost, what they were worth where they came from (transit, a sale returned), or the last
    cost known here."""
    if out_value is not None:
        return out_value, Source.TRANSFER
    if flow.unit_cost is not None:
        return to_minor(flow.qty * flow.unit_cost), Source.PO
    origin = None
    if flow.ref is not None and flow.in_kind is EntryKind.TRANSFER_IN:
        origin, source = transfers.get((flow.ref, flow.product_id)), Source.TRANSFER
    elif flow.ref is not None and flow.in_kind is EntryKind.COGS:
        origin, source = sales.get((flow.ref, flow.product_id)), Source.SALE
    if origin is not None and origin[0] > 0:
        return to_minor(flow.qty * Decimal(origin[1]) / origin[0]), source
    if flow.in_kind is EntryKind.RECEIPT and there.standard is not None:
        return to_minor(flow.qty * there.standard), Source.STANDARD
    unit, known = there.last_cost()
    return to_minor(flow.qty * unit), known


def _entry(
    flow: Flow,
    site: str,
    kind: EntryKind,
    qty: Decimal,
    value: int,
    source: Source,
    variance: int = 0,
) -> Entry:
    return Entry(flow.index, flow.product_id, site, kind, qty, value, source, flow.ref, variance)
