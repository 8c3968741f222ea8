"""What the composition root hands every area: a protocol, so that no area imports the root.

``warehouse.bootstrap.Service`` builds the engine, the units of work, the caches and the
policies from settings. An area's API routes and the ingest worker ask for the part they use,
typed with their own unit of work: ``Wiring[StockUnitOfWork]`` and its extensions in each
area's ``api/deps.py``. The root's ``Service`` is every one of them (bootstrap.py checks it).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import Engine

from warehouse.core.config import Settings
from warehouse.core.unit_of_work import FailureClassifier

U_co = TypeVar("U_co", covariant=True)


class Wiring(Protocol[U_co]):
    """Settings, the engine, a new unit of work, and what a failed transaction means."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> Engine: ...
    def uow(self) -> U_co: ...
    @property
    def classify(self) -> FailureClassifier: ...
