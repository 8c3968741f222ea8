"""What the pos API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring
from warehouse.pos.service.ports import PosUnitOfWork
from warehouse.stock.service.resolve import Catalog


class PosService(Wiring[PosUnitOfWork], Protocol):
    """Settings and units of work, and the catalog cache."""

    @property
    def catalog(self) -> Catalog: ...


ServiceDep = Annotated[PosService, Depends(get_service)]
