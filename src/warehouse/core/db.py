"""Engines for SQLite and PostgreSQL, configured for a concurrent ledger."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE writes.

    Connections with the execution option ``readonly=True`` begin plain (shared) transactions.
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = sa_create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    # no ping on every checkout (a round trip per transaction): a connection found dead fails
    # its statement, which the ingest retries and the API answers with a 503, and SQLAlchemy
    # then drops every pooled connection older than the failure
    return sa_create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy drive transactions, so BEGIN IMMEDIATE below is the only BEGIN: two
        # writers then queue on the lock instead of failing with "database is locked" later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_async_read_engine(url: str, **kwargs: Any) -> AsyncEngine | None:
    """For the API's reads on PostgreSQL through psycopg: an asyncio engine whose connections
    are in autocommit from the start (no BEGIN before a read, no ROLLBACK after it, each
    statement reading the latest committed data). None for other databases and drivers, whose
    reads stay on the thread pool."""
    url = normalise_url(url)
    if make_url(url).drivername != "postgresql+psycopg":
        return None
    return create_async_engine(url, isolation_level="AUTOCOMMIT", **kwargs)
