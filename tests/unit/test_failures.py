"""What a database error means to the ingest: unavailable, retry, fatal or permanent."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from warehouse.core.errors import OutOfRange
from warehouse.core.failures import classify


class PgError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(kind: type[sa_exc.DBAPIError], origin: Exception) -> sa_exc.DBAPIError:
    return kind("INSERT ...", {}, origin)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (wrapped(sa_exc.OperationalError, PgError("08006")), "unavailable"),
        (wrapped(sa_exc.OperationalError, PgError("57P01")), "unavailable"),
        (wrapped(sa_exc.OperationalError, PgError("53300")), "unavailable"),
        (wrapped(sa_exc.OperationalError, PgError(None)), "unavailable"),
        (wrapped(sa_exc.OperationalError, PgError("40001")), "retry"),
        (wrapped(sa_exc.OperationalError, PgError("40P01")), "retry"),
        (wrapped(sa_exc.ProgrammingError, PgError("42P01")), "fatal"),
        (wrapped(sa_exc.DataError, PgError("22003")), "permanent"),
        (wrapped(sa_exc.DataError, PgError("22001")), "permanent"),
        (wrapped(sa_exc.IntegrityError, PgError("23503")), "permanent"),
        (wrapped(sa_exc.OperationalError, sqlite3.OperationalError("database is locked")), "retry"),
        (
            wrapped(sa_exc.OperationalError, sqlite3.OperationalError("no such table: inbox")),
            "fatal",
        ),
        (
            wrapped(sa_exc.OperationalError, sqlite3.OperationalError("disk I/O error")),
            "unavailable",
        ),
        (
            wrapped(sa_exc.OperationalError, sqlite3.OperationalError("integer overflow")),
            "permanent",
        ),
        (sa_exc.TimeoutError("QueuePool limit reached"), "unavailable"),
        (OutOfRange("too much"), "permanent"),
        (RecursionError(), "permanent"),
    ],
)
def test_classify(error: BaseException, expected: str) -> None:
    assert classify(error) == expected


def test_a_lost_connection_is_unavailable_whatever_it_says() -> None:
    error = wrapped(sa_exc.DataError, PgError("22003"))
    error.connection_invalidated = True
    assert classify(error) == "unavailable"
