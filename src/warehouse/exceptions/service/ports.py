"""Ports of the exceptions queue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from warehouse.stock.service.ports import StockUnitOfWork


@dataclass(frozen=True, slots=True)
class NewException:
    """Something for the exceptions queue, with whatever it concerns."""

    kind: str
    detail: str
    suggestions: tuple[str, ...]
    site: str | None = None
    event_id: str | None = None
    agent_id: str | None = None
    station: str | None = None
    order_ref: str | None = None
    sku: str | None = None
    location: str | None = None
    lot: str | None = None
    qty: Decimal | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class StoredException:
    """An exception as the queue has it."""

    id: int
    kind: str
    status: str
    site: str | None
    event_id: str | None
    order_ref: str | None
    sku: str | None
    location: str | None
    lot: str | None
    qty: Decimal | None
    code: str | None
    detail: str
    suggestions: tuple[str, ...]


class ExceptionRepository(Protocol):
    def add(self, records: Sequence[NewException], at: datetime) -> None: ...
    def get(self, exception_id: int, *, lock: bool) -> StoredException | None: ...
    def open_keys(
        self, kind: str, keys: Sequence[tuple[str, str, str]]
    ) -> set[tuple[str, str, str]]: ...
    def close(
        self,
        exception_id: int,
        status: str,
        resolution: str,
        by: str,
        note: str | None,
        at: datetime,
    ) -> None: ...


class EventBodies(Protocol):
    """The bodies of events as the ingest received them (its inbox): an unknown code's event
    waits there until the code is linked to a product."""

    def bodies(self, event_ids: Iterable[str]) -> dict[str, tuple[str | None, bytes | None]]: ...


class ExceptionsUnitOfWork(StockUnitOfWork, Protocol):
    """The repositories of stock, the queue, and the bodies of the events that wait on it."""

    exceptions: ExceptionRepository

    @property
    def inbox(self) -> EventBodies: ...
