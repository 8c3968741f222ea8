"""Ports of stock: locations, the projection, the ledger, serialized units and RFID sweeps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from warehouse.catalog.domain import Product
from warehouse.catalog.service.ports import CatalogUnitOfWork
from warehouse.stock.domain.allocation import Bin
from warehouse.stock.domain.model import Location, Movement, StockKey


@dataclass(frozen=True, slots=True)
class Sweep:
    """A counting station's RFID sweep of one location, compared with what the units say."""

    event_id: str
    agent_id: str
    location_id: int
    at: datetime
    expected: int
    observed: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SerialUnit:
    """One serialized unit (serial number, EPC) and where it is now."""

    product_id: int
    serial: str | None
    epc: str | None
    location_id: int
    lot: str = ""
    id: int | None = None  # None until stored
    #: where the ledger's movements last put it; ``location_id`` also follows RFID (None: never)
    ledger_location_id: int | None = None


class LocationRepository(Protocol):
    def get(self, code: str) -> Location | None: ...
    def by_id(self, location_id: int) -> Location | None: ...
    def add(self, location: Location) -> Location: ...
    def update(self, location: Location) -> Location: ...
    def has_children(self, code: str) -> bool: ...
    def delete(self, code: str) -> None: ...
    def holding_gln(self, gln: str, extension: str | None) -> str | None: ...


class StockRepository(Protocol):
    def balances(self, keys: Iterable[StockKey], *, lock: bool) -> dict[StockKey, Decimal]: ...
    def bins_at(
        self, product_ids: Sequence[int], location_id: int, *, lock: bool
    ) -> dict[int, list[Bin]]:
        """The products' stock at the location by lot, each with its expiry and age."""
        ...

    def lot_expiry(self, product_id: int, lot: str) -> date | None: ...
    def apply(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None: ...
    def in_use(self, *, product_id: int | None = None, location_id: int | None = None) -> bool: ...


class LedgerRepository(Protocol):
    def append(self, movements: Sequence[Movement], recorded_at: datetime) -> list[int]: ...


class UnitRepository(Protocol):
    def find(self, product_id: int, serial: str | None, epc: str | None) -> SerialUnit | None: ...
    def by_epc(self, epc: str) -> SerialUnit | None: ...
    def place(self, unit: SerialUnit, at: datetime) -> None: ...
    def find_many(
        self, serials: Iterable[tuple[int, str]], epcs: Iterable[str]
    ) -> list[SerialUnit]: ...
    def place_many(self, units: Sequence[SerialUnit], at: datetime) -> None: ...
    def at(self, location_id: int) -> list[SerialUnit]: ...


class SweepRepository(Protocol):
    def add(self, sweep: Sweep) -> None: ...


class CostBook(Protocol):
    """Records what posted movements cost (the valuation area implements it)."""

    def record(self, movements: Sequence[Movement], ids: Sequence[int], at: datetime) -> None: ...
    def revalue(self, product: Product, at: datetime) -> None: ...


class StockUnitOfWork(CatalogUnitOfWork, Protocol):
    """The repositories the stock use cases need: the catalog's, and the locations, the
    projection, the ledger, serialized units and RFID sweeps."""

    locations: LocationRepository
    stock: StockRepository
    ledger: LedgerRepository
    units: UnitRepository
    sweeps: SweepRepository
    costs: CostBook
