"""What the labels API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from warehouse.catalog.service.ports import CatalogUnitOfWork
from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring

ServiceDep = Annotated[Wiring[CatalogUnitOfWork], Depends(get_service)]
