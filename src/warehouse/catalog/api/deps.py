"""What the catalog API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.catalog.service.ports import CatalogUnitOfWork, CodeParser
from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring


class CatalogService(Wiring[CatalogUnitOfWork], Protocol):
    """Settings and units of work, and the barcode parser that checks GTINs."""

    @property
    def parser(self) -> CodeParser: ...


ServiceDep = Annotated[CatalogService, Depends(get_service)]
