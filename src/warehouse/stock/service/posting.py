"""Posting movements: serialized units, the projection, the ledger and the movements' costs,
in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from warehouse.stock.domain import ledger
from warehouse.stock.domain.model import Flag, Movement
from warehouse.stock.service.ports import SerialUnit, StockUnitOfWork
from warehouse.stock.service.units import UnitBook


def post(
    uow: StockUnitOfWork, movements: Sequence[Movement], at: datetime, *, enforce: bool
) -> list[int]:
    """Apply movements to units, projection and ledger; return their ledger ids.

    Locks are taken in one order everywhere (projection rows sorted by key, then units), so two
    workers posting at once wait for each other rather than deadlock. Virtual locations are not
    projected (domain.ledger.projected_keys).
    """
    if not movements:
        return []
    keys = ledger.projected_keys(movements)
    balances = uow.stock.balances(keys, lock=True)
    deltas = ledger.apply_movements(movements, balances, enforce=enforce)
    _place_units(uow, movements, at)
    uow.stock.apply(deltas, at)
    ids = uow.ledger.append(movements, at)
    uow.costs.record(movements, ids, at)
    return ids


def _place_units(uow: StockUnitOfWork, movements: Sequence[Movement], at: datetime) -> None:
    """Move the serialized units the movements name, all in one read and two writes; a unit
    moved from a place other than where it was is flagged ``serial_elsewhere``."""
    serialized = [m for m in movements if m.serial or m.epc]
    if not serialized:
        return
    book = UnitBook(
        uow,
        [(m.product.id, m.serial) for m in serialized if m.serial and m.product.id is not None],
        [m.epc for m in serialized if m.epc],
    )
    for movement in serialized:
        assert movement.product.id is not None
        assert movement.source.id is not None
        assert movement.destination.id is not None
        unit = book.find(movement.product.id, movement.serial, movement.epc)
        elsewhere = unit is not None and unit.location_id != movement.source.id
        if elsewhere and Flag.SERIAL_ELSEWHERE not in movement.flags:
            movement.flags.append(Flag.SERIAL_ELSEWHERE)
        book.place(
            SerialUnit(
                product_id=movement.product.id,
                serial=movement.serial or (unit.serial if unit else None),
                epc=movement.epc or (unit.epc if unit else None),
                location_id=movement.destination.id,
                lot=movement.lot,
                ledger_location_id=movement.destination.id,
            ),
            unit,
        )
    book.store(at)
