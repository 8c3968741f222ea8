"""What the partners API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring
from warehouse.partners.service.ports import PartnersUnitOfWork

ServiceDep = Annotated[Wiring[PartnersUnitOfWork], Depends(get_service)]
