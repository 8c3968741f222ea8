"""Request dependencies: the service built at startup, and a read connection opened on demand.

A request holds at most one pooled connection at a time: a command's unit of work takes its
own and gives it back at commit, and only then does the route open its read connection to
answer. (Holding a read connection while the unit of work waited for a second one is how 30
concurrent POSTs used to exhaust the pool and time out.)
"""

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


class Reader:
    """A read-only connection, opened the first time a route asks for it."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The connection (opened now if this is the first use)."""
        if self._conn is None:
            self._conn = self._service.engine.connect().execution_options(readonly=True)
        return self._conn

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def reader(service: Annotated[Service, Depends(get_service)]) -> Iterator[Reader]:
    """A lazily opened read connection, returned to the pool after the response."""
    opened = Reader(service)
    try:
        yield opened
    finally:
        opened.close()


def read_connection(db: Annotated[Reader, Depends(reader)]) -> Connection:
    """For routes that only read: the connection itself."""
    return db.conn


ServiceDep = Annotated[Service, Depends(get_service)]
ReaderDep = Annotated[Reader, Depends(reader)]
ReadConn = Annotated[Connection, Depends(read_connection)]
