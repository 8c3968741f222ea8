"""Serialized units in bulk: every unit a batch touches is read in one query, followed through
the batch's movements and RFID reads in order, and written back in two statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from warehouse.stock.service.ports import SerialUnit, StockUnitOfWork

Token = tuple[str, object]


class UnitBook:
    """Where the units of one batch are, as its movements and reads take them."""

    def __init__(
        self, uow: StockUnitOfWork, serials: Iterable[tuple[int, str]], epcs: Iterable[str]
    ) -> None:
        self._uow = uow
        self._by_serial: dict[tuple[int, str], SerialUnit] = {}
        self._by_epc: dict[str, SerialUnit] = {}
        self._token: dict[int, Token] = {}  # id() of the current record -> what it stands for
        self._changed: dict[Token, SerialUnit] = {}
        for unit in uow.units.find_many(serials, epcs):
            self._index(unit, ("id", unit.id))

    def _index(self, unit: SerialUnit, token: Token) -> None:
        self._token[id(unit)] = token
        if unit.serial:
            self._by_serial[(unit.product_id, unit.serial)] = unit
        if unit.epc:
            self._by_epc[unit.epc] = unit

    def find(
        self, product_id: int | None, serial: str | None, epc: str | None
    ) -> SerialUnit | None:
        """The unit with this EPC, or this product and serial, as the batch has left it."""
        found = self._by_epc.get(epc) if epc else None
        if found is None and serial and product_id is not None:
            found = self._by_serial.get((product_id, serial))
        return found

    def place(self, unit: SerialUnit, previous: SerialUnit | None) -> None:
        """Record where ``unit`` is now (``previous``: what the book had for it, if anything)."""
        if previous is not None:
            token = self._token[id(previous)]
            unit = replace(unit, id=previous.id)
        else:
            token = ("new", unit.epc or (unit.product_id, unit.serial))
        self._index(unit, token)
        self._changed[token] = unit

    def store(self, at: datetime) -> None:
        """Write every change; the book is spent afterwards."""
        if self._changed:
            self._uow.units.place_many(list(self._changed.values()), at)
            self._changed = {}
