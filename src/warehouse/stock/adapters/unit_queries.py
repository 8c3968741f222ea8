"""Serialized units and RFID sweeps: where each unit is, and what each sweep saw."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, decode_cursor, encode_cursor
from warehouse.stock.adapters import tables as stock_tables

P, L = catalog_tables.products, stock_tables.locations
UNITS, SWEEPS = stock_tables.serial_units, stock_tables.rfid_sweeps


def units(
    conn: Connection,
    *,
    site: str | None,
    sku: str | None,
    location: str | None,
    epc: str | None,
    serial: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Serialized units (serial number, EPC, NFC UID) and where each is now, newest first."""
    query = (
        select(UNITS, P.c.sku, L.c.code, L.c.path)
        .join(P, P.c.id == UNITS.c.product_id)
        .join(L, L.c.id == UNITS.c.location_id)
        .order_by(UNITS.c.id.desc())
        .limit(limit + 1)
    )
    if site:
        query = query.where(L.c.path.startswith(f"/{site}/"))
    if sku:
        query = query.where(P.c.sku == sku)
    if location:
        path = conn.execute(select(L.c.path).where(L.c.code == location)).scalar()
        if path is None:
            raise NotFound(f"location {location!r} is not a known location", field="location")
        query = query.where(L.c.path.startswith(path))
    if epc:
        query = query.where(UNITS.c.epc == epc.upper())
    if serial:
        query = query.where(UNITS.c.serial == serial)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(UNITS.c.id < before)
    rows = conn.execute(query).all()
    items = [
        {
            "sku": r.sku,
            "serial": r.serial,
            "epc": r.epc,
            "lot": r.lot or None,
            "location": r.code,
            "updated_at": r.updated_at,
        }
        for r in rows[:limit]
    ]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


def sweeps(
    conn: Connection,
    *,
    site: str | None,
    location: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """RFID sweeps of counting stations, newest first: tags expected, seen, missing and
    unexpected at the swept location."""
    query = (
        select(SWEEPS, L.c.code)
        .join(L, L.c.id == SWEEPS.c.location_id)
        .order_by(SWEEPS.c.id.desc())
        .limit(limit + 1)
    )
    if site:
        query = query.where(L.c.path.startswith(f"/{site}/"))
    if location:
        query = query.where(L.c.code == location)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(SWEEPS.c.id < before)
    rows = conn.execute(query).all()
    items = [
        {
            "id": r.id,
            "location": r.code,
            "agent_id": r.agent_id,
            "event_id": r.event_id,
            "swept_at": r.swept_at,
            "expected": r.expected,
            "observed": r.observed,
            "missing": json.loads(r.missing),
            "unexpected": json.loads(r.unexpected),
        }
        for r in rows[:limit]
    ]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)
