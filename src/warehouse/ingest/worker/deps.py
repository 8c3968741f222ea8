"""What the ingest worker asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Protocol

from warehouse.core.wiring import Wiring
from warehouse.ingest.service.ports import IngestUnitOfWork
from warehouse.stock.service.policies import StockPolicy
from warehouse.stock.service.resolve import Catalog


class IngestService(Wiring[IngestUnitOfWork], Protocol):
    """Settings, the engine and units of work, the catalog cache and the stock policy."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def policy(self) -> StockPolicy: ...
