"""Keyset pagination of listings: opaque cursors and pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pydantic_core
from sqlalchemy import Connection, Table, select

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
    query = select(table).where(*filters).order_by(table.c.id.desc()).limit(limit + 1)
    if sites is not None:
        query = query.where(table.c.site.in_(sorted(sites)))
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(table.c.id < before)
    rows = conn.execute(query).all()
    return list(rows[:limit]), encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
