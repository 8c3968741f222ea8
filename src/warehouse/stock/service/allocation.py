"""What leaves a location, taken from its lots and units: the lot or unit a scanned code names,
otherwise the lots on hand by first expiry, then first in (the rule sales orders reserve by),
never a lot past its expiry.

A command (a sale through the API) is ``strict``: a serial-tracked line must name its unit, an
expired lot or a unit the ledger has elsewhere is refused, and short stock under the ``block``
policy is refused naming what the unexpired lots hold. What already happened (a sale an edge
register reports) is taken as it stands: when the unexpired lots run out the expired ones are
taken (and reported, to be flagged), then the lot-less bucket goes below zero, which is a real
shortage and is flagged as one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from warehouse.catalog.domain import NegativePolicy, Tracking
from warehouse.core.errors import InsufficientStock, StockRule
from warehouse.stock.domain import ledger
from warehouse.stock.domain.allocation import Bin, allocate
from warehouse.stock.domain.model import Movement
from warehouse.stock.service.ports import SerialUnit, StockUnitOfWork

ZERO = Decimal(0)


@dataclass(slots=True)
class Taken:
    """A movement split by lot and unit, and the expired lots it took from."""

    movements: list[Movement]
    expired: list[str] = field(default_factory=list)


class LotPicker:
    """Splits movements out of one location (a register) by lot and unit. It remembers what it
    took, so the lines of a basket and the baskets of a batch share the stock they see."""

    def __init__(self, uow: StockUnitOfWork, *, strict: bool) -> None:
        self.uow = uow
        self.on = date.min
        self.strict = strict
        self._taken: dict[tuple[int, int, str], Decimal] = {}
        self._units: set[int] = set()
        #: the stock read (and locked) so far, by product and location: what is taken from it
        #: is in ``_taken``, and nothing else in the transaction moves it before the posting
        self._bins: dict[tuple[int, int], list[Bin]] = {}

    def prefetch(self, movements: Sequence[Movement]) -> None:
        """Read the stock of every product the movements take from lots, one statement per
        location (a basket's lines at once)."""
        wanted: dict[int, set[int]] = {}
        for m in movements:
            pid, lid = m.product.id, m.source.id
            if pid is None or lid is None or (pid, lid) in self._bins:
                continue
            if m.product.tracking is not Tracking.SERIAL and not m.lot:
                wanted.setdefault(lid, set()).add(pid)
        for location_id, products in wanted.items():
            found = self.uow.stock.bins_at(sorted(products), location_id, lock=True)
            for product_id, bins in found.items():
                self._bins[(product_id, location_id)] = bins

    def take(self, movement: Movement, on: date) -> Taken:
        """``movement`` as the parts it takes from the source's lots and units, on the day
        ``on`` (what expired before it is not sold)."""
        self.on = on
        if movement.product.tracking is Tracking.SERIAL:
            return self._units_of(movement)
        if movement.lot:
            return self._named_lot(movement)
        return self._from_lots(movement)

    # --- lots --------------------------------------------------------------------------------

    def _named_lot(self, movement: Movement) -> Taken:
        """The lot the code (or the cashier) named: refused (strict) or reported when past its
        expiry."""
        product, lot = movement.product, movement.lot
        assert product.id is not None
        known = self.uow.stock.lot_expiry(product.id, lot)
        expiry = min((d for d in (known, movement.expiry) if d is not None), default=None)
        self._note(movement, lot, movement.qty)
        if expiry is None or expiry >= self.on:
            return Taken([movement])
        if self.strict:
            raise StockRule(
                f"{product.sku} lot {lot} expired on {expiry.isoformat()}: it may not be sold",
                field="lot",
            )
        return Taken([movement], [lot])

    def _from_lots(self, movement: Movement) -> Taken:
        """The lots on hand, first expiry first, then first in; unexpired before expired."""
        product, source = movement.product, movement.source
        assert product.id is not None
        assert source.id is not None
        if (product.id, source.id) not in self._bins:
            self.prefetch([movement])
        bins = [
            replace(
                b, available=b.available - self._taken.get((product.id, source.id, b.lot), ZERO)
            )
            for b in self._bins[(product.id, source.id)]
        ]
        if all(b.lot == "" for b in bins):  # no lots here: the movement stands as it is
            self._note(movement, "", movement.qty)
            return Taken([movement])
        fresh = [b for b in bins if not b.expired(self.on) and b.available > 0]
        parts, short = allocate(movement.qty, fresh, fefo=any(b.expiry for b in bins))
        expired: list[str] = []
        if short > 0 and not self.strict:
            stale = [b for b in bins if b.expired(self.on) and b.available > 0]
            more, short = allocate(short, stale, fefo=True)
            parts += more
            expired = [b.lot for b, _ in more]
        if short > 0 and self.strict and _blocks(movement):
            raise _short(movement, fresh, bins, self.on)
        split = [(b.lot, qty) for b, qty in parts]
        if short > 0:  # more than the lots hold: the rest goes below zero where no lot is
            split.append(("", short))
        out = []
        for lot, qty in split:
            self._note(movement, lot, qty)
            flags = ledger.tracking_flags(product, lot, movement.serial)
            out.append(replace(movement, lot=lot, qty=qty, flags=flags))
        return Taken(out, expired)

    def _note(self, movement: Movement, lot: str, qty: Decimal) -> None:
        assert movement.product.id is not None
        assert movement.source.id is not None
        key = (movement.product.id, movement.source.id, lot)
        self._taken[key] = self._taken.get(key, ZERO) + qty

    # --- units -------------------------------------------------------------------------------

    def _units_of(self, movement: Movement) -> Taken:
        """A serial-tracked product leaves by unit: the unit the code names, or (reported, not
        commanded) the units the ledger has at the source, oldest first."""
        product, source = movement.product, movement.source
        assert product.id is not None
        assert source.id is not None
        if movement.serial or movement.epc:
            unit = self.uow.units.find(product.id, movement.serial, movement.epc)
            if self.strict:
                _check_unit(movement, unit)
            lot = movement.lot or (unit.lot if unit else "")
            serial = movement.serial or (unit.serial if unit else None)
            if unit is not None and unit.id is not None:
                self._units.add(unit.id)
            self._note(movement, lot, movement.qty)
            flags = ledger.tracking_flags(product, lot, serial)
            return Taken([replace(movement, lot=lot, serial=serial, flags=flags)])
        if self.strict:
            raise StockRule(
                f"{product.sku} is serial-tracked: scan the unit (its serial or GS1 code with "
                "(21)) or name its serial",
                field="serial",
            )
        here = [
            u
            for u in self.uow.units.at(source.id)
            if u.product_id == product.id and u.id not in self._units
        ]
        here.sort(key=lambda u: u.id or 0)
        out, left = [], movement.qty
        for unit in here:
            if left < 1:
                break
            assert unit.id is not None
            self._units.add(unit.id)
            self._note(movement, unit.lot, Decimal(1))
            out.append(_unit_movement(movement, unit))
            left -= 1
        if left > 0 or not out:
            self._note(movement, movement.lot, left)
            out.append(replace(movement, qty=left) if out else movement)
        return Taken(out)


def _unit_movement(movement: Movement, unit: SerialUnit) -> Movement:
    return replace(
        movement,
        qty=Decimal(1),
        lot=unit.lot,
        serial=unit.serial,
        epc=unit.epc,
        flags=ledger.tracking_flags(movement.product, unit.lot, unit.serial),
    )


def _check_unit(movement: Movement, unit: SerialUnit | None) -> None:
    """A commanded sale of a unit: on record, and at the register by the ledger (one unit a
    line is the ledger's own rule for serials)."""
    product, named = movement.product, movement.serial or movement.epc
    if unit is None:
        raise StockRule(f"{product.sku} has no unit {named} on record", field="serial")
    if unit.ledger_location_id not in (None, movement.source.id):
        raise StockRule(
            f"{product.sku} unit {named} is not at {movement.source.code} by the ledger",
            field="serial",
        )


def _blocks(movement: Movement) -> bool:
    return ledger.effective_policy(movement.product, movement.source) is NegativePolicy.BLOCK


def _short(movement: Movement, fresh: list[Bin], bins: list[Bin], on: date) -> InsufficientStock:
    """What a refused sale is told: what the lots not past their expiry hold, and the rest."""
    available = sum((b.available for b in fresh), ZERO)
    stale = sum((b.available for b in bins if b.expired(on) and b.available > 0), ZERO)
    error = InsufficientStock(
        movement.product.sku, movement.source.code, "", available, movement.qty
    )
    if stale > 0:
        error.message += f" ({stale} more in lots past their expiry, which are not sold)"
        error.args = (error.message,)
    return error
