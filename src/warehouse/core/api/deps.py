"""Request dependencies: the service built at startup, the read side, and a connection for
commands to answer from.

Reads (every GET that queries) are ``async`` routes that hand a query function to
:class:`Reads`: on PostgreSQL it runs on the event loop over psycopg's asyncio connections,
in autocommit; elsewhere (SQLite) it runs on the thread pool over a plain connection. Either
way the query code is the same synchronous function of a ``Connection`` (adapters/queries.py).
Measured against sync routes on the thread pool, this was a fifth less CPU per page and no
hop through a thread per dependency (docs/performance.md).

A command holds at most one pooled connection at a time: its unit of work takes its own and
gives it back at commit, and only then does the route open its read connection to answer.
(Holding a read connection while the unit of work waited for a second one is how 30
concurrent POSTs used to exhaust the pool and time out.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.concurrency import run_in_threadpool

from warehouse.core.api.replica import ReplicaHealth, wrote_recently
from warehouse.core.db import create_async_read_engine
from warehouse.core.wiring import Wiring

P = ParamSpec("P")
T = TypeVar("T")


async def get_service(request: Request) -> Wiring[object]:
    """The service the app's lifespan built (async and I/O-free: no trip to a thread). Each
    area's ``api/deps.py`` annotates it with the protocol of what its routes use."""
    service: Wiring[object] = request.app.state.service
    return service


class Reads:
    """Runs read-only query functions for async routes (on a replica when there is one and the
    client has not just written: replica.py)."""

    def __init__(
        self,
        engine: Engine,
        async_engine: AsyncEngine | None = None,
        replica: AsyncEngine | None = None,
        replica_retry_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._async = async_engine
        self._replica = replica
        self._health = ReplicaHealth(replica_retry_s)

    async def run(
        self, query: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``query(connection, *args, **kwargs)`` on a pooled connection, given back after."""
        if self._replica is not None and not wrote_recently.get() and self._health.usable():
            try:
                async with self._replica.connect() as conn:
                    return await conn.run_sync(query, *args, **kwargs)
            except OperationalError as exc:  # unreachable, or a query cancelled by recovery
                self._health.failed(exc)
        if self._async is not None:
            async with self._async.connect() as conn:
                return await conn.run_sync(query, *args, **kwargs)

        def on_a_thread() -> T:
            with self._engine.connect() as conn:
                if conn.dialect.name == "sqlite":  # a plain BEGIN, not the writers' IMMEDIATE
                    conn.execution_options(readonly=True)
                return query(conn, *args, **kwargs)

        return await run_in_threadpool(on_a_thread)


@asynccontextmanager
async def open_reads(service: Wiring[object]) -> AsyncIterator[Reads]:
    """The read side for one running app (its asyncio pool belongs to the app's event loop, so
    it is made in the lifespan and disposed of there); pool sizes from settings."""
    settings = service.settings
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
    }
    async_engine = create_async_read_engine(settings.database_url, **pool)
    replica = None
    if settings.read_database_url:
        # a replica that is down must fail a read fast (then the primary answers)
        replica = create_async_read_engine(
            settings.read_database_url, connect_args={"connect_timeout": 2}, **pool
        )
        if replica is None:
            raise RuntimeError("WAREHOUSE_READ_DATABASE_URL must be a postgresql:// URL")
    try:
        yield Reads(service.engine, async_engine, replica, settings.replica_retry_s)
    finally:
        for engine in (async_engine, replica):
            if engine is not None:
                await engine.dispose()


async def get_reads(request: Request) -> Reads:
    """The app's read side; an app driven without its lifespan reads on the thread pool."""
    reads: Reads | None = getattr(request.app.state, "reads", None)
    if reads is None:
        service: Wiring[object] = request.app.state.service
        reads = request.app.state.reads = Reads(service.engine)
    return reads


class Reader:
    """For commands: a read-only connection, opened the first time the route asks for it."""

    def __init__(self, service: Wiring[object]) -> None:
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


def reader(service: Annotated[Wiring[object], Depends(get_service)]) -> Iterator[Reader]:
    """A lazily opened read connection, returned to the pool after the response."""
    opened = Reader(service)
    try:
        yield opened
    finally:
        opened.close()


ReaderDep = Annotated[Reader, Depends(reader)]
ReadsDep = Annotated[Reads, Depends(get_reads)]
