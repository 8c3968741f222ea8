"""What a database error means to the ingest: wait, retry, stop, or isolate the input.

SQLSTATE classes (PostgreSQL appendix A) decide for PostgreSQL; SQLite's messages for SQLite."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

from warehouse.core.unit_of_work import FailureKind

#: connection exceptions (08), shutdown and "cannot connect now" (57P01-03), too many
#: connections (53300), out of disk or memory (53100, 53200): nothing to do but wait
_UNAVAILABLE = ("57P01", "57P02", "57P03", "53000", "53100", "53200", "53300")


#: serialization failure, deadlock, lock not available, statement timeout: try again
_RETRY = ("40001", "40P01", "55P03", "57014")


#: no such database, schema, table or column: the schema is missing or older than the code
_FATAL = ("3D000", "3F000", "42P01", "42703")


def classify(exc: BaseException) -> FailureKind:
    """Sort an exception raised inside a unit of work."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return "unavailable"
    if not isinstance(exc, sa_exc.DBAPIError):
        return "permanent"  # bad input met a type, a rule or a bug: isolate it
    if exc.connection_invalidated:
        return "unavailable"
    origin = exc.orig
    sqlstate = getattr(origin, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE:
            return "unavailable"
        if sqlstate in _RETRY:
            return "retry"
        if sqlstate in _FATAL:
            return "fatal"
        return "permanent"
    if isinstance(origin, sqlite3.Error):
        return _sqlite(str(origin))
    if isinstance(exc, sa_exc.OperationalError):  # psycopg: connection refused, lost, timed out
        return "unavailable"
    return "permanent"


def _sqlite(message: str) -> FailureKind:
    text = message.lower()
    if "locked" in text or "busy" in text:
        return "retry"
    if "no such table" in text or "no such column" in text:
        return "fatal"
    if "unable to open" in text or "disk" in text or "readonly" in text or "i/o" in text:
        return "unavailable"
    return "permanent"


def first_line(exc: BaseException) -> str:
    """The first line of what a failure says: the database driver's own error when the adapter
    wrapped one, else the exception's."""
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__
