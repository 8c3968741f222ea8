"""Ports of cycle counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from warehouse.exceptions.service.ports import ExceptionsUnitOfWork


@dataclass(frozen=True, slots=True)
class CountLine:
    product_id: int
    sku: str
    location_id: int
    location_code: str
    lot: str
    book: Decimal
    counted: Decimal | None


@dataclass(frozen=True, slots=True)
class CountView:
    id: int
    ref: str
    site: str
    location_id: int
    location_code: str
    blind: bool
    status: str
    snapshot_movement_id: int
    lines: tuple[CountLine, ...]


class CountRepository(Protocol):
    def add_session(
        self, ref: str, site: str, location_id: int, blind: bool, by: str, at: datetime
    ) -> int: ...
    def session(self, ref: str, *, lock: bool) -> CountView | None: ...
    def snapshot(self, session_id: int, at: datetime) -> None: ...
    def moved_since(self, session_id: int) -> bool: ...
    def covering(self, location_id: int) -> list[tuple[int, str]]: ...
    def any_open(self) -> bool: ...
    def set_counted(
        self,
        session_id: int,
        product_id: int,
        location_id: int,
        lot: str,
        qty: Decimal,
        *,
        add: bool,
    ) -> Decimal: ...
    def set_status(self, session_id: int, status: str, by: str | None, at: datetime) -> None: ...


class CountsUnitOfWork(ExceptionsUnitOfWork, Protocol):
    """The repositories the count use cases need: stock's, the exceptions queue, the counts."""

    counts: CountRepository
