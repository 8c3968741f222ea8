"""What the counts API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring
from warehouse.counts.service.ports import CountsUnitOfWork
from warehouse.stock.service.resolve import Catalog


class CountsService(Wiring[CountsUnitOfWork], Protocol):
    """Settings and units of work, and the catalog cache."""

    @property
    def catalog(self) -> Catalog: ...


ServiceDep = Annotated[CountsService, Depends(get_service)]
