"""The unit of work every area's use cases run in, what a failure inside one means, and the two
repositories of the core: the catalog version (every cached lookup's clock) and the idempotency
keys of API commands (SQL in ``repositories.py``). Standard library only."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self

#: What a failed store call means to the caller: ``unavailable`` (the database cannot be
#: reached: wait and try again, never give up), ``retry`` (serialization failure, deadlock: try
#: again a few times), ``fatal`` (no schema: nothing will work until someone acts),
#: ``permanent`` (this input cannot be stored: isolate it).
FailureKind = Literal["unavailable", "retry", "fatal", "permanent"]


class FailureClassifier(Protocol):
    """Tells what an exception raised by a unit of work means."""

    def __call__(self, exc: BaseException) -> FailureKind: ...


class CatalogVersion(Protocol):
    """A counter every catalog change raises, so caches in every process know to drop."""

    def current(self) -> int: ...
    def bump(self) -> None: ...


class IdempotencyRepository(Protocol):
    def claim(
        self, key: str, fingerprint: str, at: datetime
    ) -> tuple[str, int, dict[str, Any]] | None: ...
    def complete(self, key: str, status: int, body: dict[str, Any]) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories an area needs; leaving the block without commit
    rolls back.

    Each area declares the repositories its use cases need as a protocol of its own that extends
    this one (``stock.service.ports.StockUnitOfWork`` and so on), so an area knows nothing of the
    areas above it. The composition root's ``SqlUnitOfWork`` has every repository and so is each
    of them.
    """

    catalog_version: CatalogVersion
    idempotency: IdempotencyRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
