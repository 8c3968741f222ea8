"""What the exceptions API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring
from warehouse.exceptions.service.ports import ExceptionsUnitOfWork
from warehouse.exceptions.service.queue import EventDecoder
from warehouse.stock.service.resolve import Catalog


class ExceptionsService(Wiring[ExceptionsUnitOfWork], Protocol):
    """Settings and units of work, the catalog cache, and the decoder of the events that wait
    on an exception (the ingest's)."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def waiting_event(self) -> EventDecoder: ...


ServiceDep = Annotated[ExceptionsService, Depends(get_service)]
