"""Request dependencies: the service built at startup, and read connections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from warehouse.bootstrap import Service


def get_service(request: Request) -> Service:
    """The service the app's lifespan built."""
    service: Service = request.app.state.service
    return service


def read_connection(service: Annotated[Service, Depends(get_service)]) -> Iterator[Connection]:
    """A connection for queries, returned to the pool after the response."""
    with service.engine.connect().execution_options(readonly=True) as conn:
        yield conn


ServiceDep = Annotated[Service, Depends(get_service)]
ReadConn = Annotated[Connection, Depends(read_connection)]
