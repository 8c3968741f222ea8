"""The catalog watch hears committed catalog changes on PostgreSQL, not rolled-back ones, and
says it cannot hear while its connection is gone, until it is back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from warehouse.core.catalog_watch import APP_NAME, CatalogWatch
from warehouse.core.db import create_engine
from warehouse.core.repositories import SqlCatalogVersion


def _until(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def pg(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


@pytest.fixture
def watch(pg: Engine) -> Iterator[CatalogWatch]:
    w = CatalogWatch(pg.url, retry_s=0.1)
    w.start()
    assert w.listening.wait(10)
    yield w
    w.stop()


def test_a_committed_change_is_heard(pg: Engine, watch: CatalogWatch) -> None:
    before = watch.generation()
    assert before is not None
    with pg.begin() as conn:
        SqlCatalogVersion(conn).bump()
    assert _until(lambda: (watch.generation() or 0) > before)


def test_a_rolled_back_change_is_not(pg: Engine, watch: CatalogWatch) -> None:
    before = watch.generation()
    with pg.connect() as conn:
        SqlCatalogVersion(conn).bump()
        conn.rollback()
    with pg.begin() as conn:  # a marker that is heard, so the wait below is not a guess
        SqlCatalogVersion(conn).bump()
    assert _until(lambda: watch.generation() is not None and watch.generation() != before)
    assert watch.generation() == (before or 0) + 1  # the marker alone


def test_a_lost_connection_is_said_and_recovered(
    pg: Engine, watch: CatalogWatch, pg_database: str
) -> None:
    before = watch.generation()
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (APP_NAME,),
        )
    assert _until(lambda: watch.generation() is None, 5)  # it says it cannot hear
    assert _until(lambda: watch.generation() is not None, 10)  # and listens again
    assert watch.generation() != before  # a new generation: what it missed is looked at


def test_the_url_keeps_its_credentials() -> None:
    url = make_url("postgresql+psycopg://u:secret@127.0.0.1:5432/db")
    assert CatalogWatch(url)._dsn == "postgresql://u:secret@127.0.0.1:5432/db"
