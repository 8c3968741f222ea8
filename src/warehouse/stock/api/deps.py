"""What the stock API asks of the composition root (``warehouse.bootstrap.Service``); the APIs of
the areas above stock extend it."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.catalog.service.ports import CodeParser
from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring
from warehouse.stock.service.policies import StockPolicy
from warehouse.stock.service.ports import StockUnitOfWork
from warehouse.stock.service.resolve import Catalog


class StockService(Wiring[StockUnitOfWork], Protocol):
    """Settings and units of work, the barcode parser, the catalog cache and the stock
    policy."""

    @property
    def parser(self) -> CodeParser: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def policy(self) -> StockPolicy: ...


ServiceDep = Annotated[StockService, Depends(get_service)]
