"""Rebuilding the stock projection from the ledger, and checking one against the other.

The projection holds physical locations only; virtual ones (supplier, customer, loss,
transit) are summed from the ledger when asked for (domain.ledger.projected_keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, func, select, type_coerce, union_all

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.types import Quantity
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS, StockKey

Key = tuple[int, int, str]


def ledger_balances(conn: Connection) -> dict[Key, Decimal]:
    """On hand per (product, physical location, lot), summed from the ledger (with what its
    detached months added: partitions.py)."""
    m, loc, archive = stock_tables.movements, stock_tables.locations, stock_tables.ledger_archive
    legs = union_all(
        select(
            m.c.product_id,
            m.c.from_location_id.label("location_id"),
            m.c.lot,
            (-m.c.qty).label("qty"),
        ),
        select(
            m.c.product_id, m.c.to_location_id.label("location_id"), m.c.lot, m.c.qty.label("qty")
        ),
        select(archive.c.product_id, archive.c.location_id, archive.c.lot, archive.c.qty),
    ).subquery()
    rows = conn.execute(
        select(
            legs.c.product_id,
            legs.c.location_id,
            legs.c.lot,
            type_coerce(func.sum(legs.c.qty), Quantity).label("on_hand"),
        )
        .join(loc, loc.c.id == legs.c.location_id)
        .where(loc.c.kind.not_in([k.value for k in VIRTUAL_KINDS]))
        .group_by(legs.c.product_id, legs.c.location_id, legs.c.lot)
    )
    return {(r.product_id, r.location_id, r.lot): r.on_hand for r in rows}


def projection_balances(conn: Connection) -> dict[Key, Decimal]:
    """On hand per (product, location, lot) as the projection has it."""
    s = stock_tables.stock
    rows = conn.execute(select(s.c.product_id, s.c.location_id, s.c.lot, s.c.on_hand))
    return {(r.product_id, r.location_id, r.lot): r.on_hand for r in rows}


def differences(conn: Connection) -> dict[Key, tuple[Decimal, Decimal]]:
    """Keys where projection and ledger disagree: (projection, ledger); empty when consistent."""
    ledger, projection = ledger_balances(conn), projection_balances(conn)
    zero = Decimal(0)
    return {
        key: (projection.get(key, zero), ledger.get(key, zero))
        for key in ledger.keys() | projection.keys()
        if projection.get(key, zero) != ledger.get(key, zero)
    }


def rebuild(conn: Connection) -> int:
    """Replace the projection's on-hand figures with the ledger's; return the rows written.

    Takes a table lock on PostgreSQL so no movement is posted halfway through.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE stock IN EXCLUSIVE MODE")
    s = stock_tables.stock
    balances = ledger_balances(conn)
    current = {
        (r.product_id, r.location_id, r.lot): (r.reserved, r.version)
        for r in conn.execute(
            select(s.c.product_id, s.c.location_id, s.c.lot, s.c.reserved, s.c.version)
        )
    }
    conn.execute(delete(s))
    at = datetime.now(UTC)
    skus = dict(
        conn.execute(select(catalog_tables.products.c.id, catalog_tables.products.c.sku)).all()
    )
    places = {
        r.id: (r.code, r.path)
        for r in conn.execute(
            select(
                stock_tables.locations.c.id,
                stock_tables.locations.c.code,
                stock_tables.locations.c.path,
            )
        )
    }
    # versions keep rising across a rebuild, so a live feed never sees one go backwards
    rows = [
        {
            "product_id": k[0],
            "location_id": k[1],
            "lot": k[2],
            "on_hand": v,
            "reserved": current.get(k, (Decimal(0), 0))[0],
            "version": current.get(k, (Decimal(0), 0))[1] + 1,
            "updated_at": at,
            "sku": skus[k[0]],
            "location_code": places[k[1]][0],
            "location_path": places[k[1]][1],
        }
        for k, v in sorted(balances.items())
    ]
    if rows:
        conn.execute(s.insert(), rows)
        stock_feed.record(
            conn, [StockKey(r["product_id"], r["location_id"], r["lot"]) for r in rows]
        )
    return len(rows)
