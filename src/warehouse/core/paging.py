"""Keyset pagination of listings: opaque cursors and pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic_core
from sqlalchemy import ColumnElement, Connection, Select, Table, select

from warehouse.core.errors import InvalidCursor


def encode_cursor(values: list[Any]) -> str:
    """An opaque page cursor."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The values of a cursor made by :func:`encode_cursor`, each of the type given (ints
    within 64 bits, strings without NUL), or InvalidCursor."""
    try:
        values = pydantic_core.from_json(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
    except ValueError:  # not base64, not JSON, nested too deep
        values = None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise InvalidCursor("cursor is not one this API returned", field="cursor")
    for value, kind in zip(values, kinds, strict=True):
        fits = (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
            if kind is int
            else isinstance(value, str) and "\x00" not in value and len(value) <= 512
        )
        if not fits:
            raise InvalidCursor("cursor is not one this API returned", field="cursor")
    return values


@dataclass
class Page:
    """One page of rows and the cursor of the next, if any."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def newest_first(
    conn: Connection,
    table: Table,
    filters: list[Any],
    sites: Collection[str] | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A page of ``table``'s rows, newest (highest id) first, of the given sites (``None``: all),
    and the cursor of the next page."""
    query = select(table).where(*filters)
    if sites is not None:
        query = query.where(table.c.site.in_(sorted(sites)))
    return newest_page(conn, query, table.c.id, limit, cursor)


def newest_page(
    conn: Connection, query: Select[Any], id_column: Any, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """A page of what ``query`` selects, highest ``id_column`` first (it must be selected as
    ``id``), and the cursor of the next page."""
    query = query.order_by(id_column.desc()).limit(limit + 1)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(id_column < before)
    rows = conn.execute(query).all()
    return list(rows[:limit]), encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None


def ascending_page(
    conn: Connection, query: Select[Any], key: Any, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """A page of what ``query`` selects in order of the unique text column ``key``, and the
    cursor of the next page."""
    query = query.order_by(key).limit(limit + 1)
    if cursor:
        (after,) = decode_cursor(cursor, str)
        query = query.where(key > after)
    rows = conn.execute(query).all()
    if len(rows) <= limit:
        return list(rows), None
    return list(rows[:limit]), encode_cursor([rows[limit - 1]._mapping[key.name]])


def within(
    column: Any, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    """Filters keeping ``column`` in [since, until) (either bound may be absent)."""
    out = []
    if since is not None:
        out.append(column >= since)
    if until is not None:
        out.append(column < until)
    return out
