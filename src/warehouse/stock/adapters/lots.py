"""Lots in SQL: the lots the ledger has seen, kept as movements are appended, and the stock of a
product at one location by lot, with each lot's expiry and age (what FEFO and FIFO read)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, bindparam, select, tuple_, update

from warehouse.core.sql import chunks, insert
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.allocation import Bin
from warehouse.stock.domain.model import Movement

LOTS, S = stock_tables.lots, stock_tables.stock


def note(conn: Connection, movements: Sequence[Movement]) -> None:
    """Record the lots the movements carry that the ledger had not seen (with their first
    expiry and when they first moved), and an expiry for a known lot that had none. One read
    per batch; writes only for what is new."""
    seen: dict[tuple[int, str], tuple[date | None, datetime]] = {}
    for m in movements:
        if not m.lot or m.product.id is None:
            continue
        key = (m.product.id, m.lot)
        expiry, first = seen.get(key, (None, m.occurred_at))
        if m.expiry is not None and (expiry is None or m.expiry < expiry):
            expiry = m.expiry
        seen[key] = (expiry, min(first, m.occurred_at))
    if not seen:
        return
    known: dict[tuple[int, str], date | None] = {}
    for part in chunks(sorted(seen), 300):
        query = select(LOTS.c.product_id, LOTS.c.lot, LOTS.c.expiry).where(
            tuple_(LOTS.c.product_id, LOTS.c.lot).in_(part)
        )
        known.update({(r.product_id, r.lot): r.expiry for r in conn.execute(query)})
    new = [
        {"product_id": p, "lot": lot, "expiry": seen[p, lot][0], "first_seen_at": seen[p, lot][1]}
        for p, lot in sorted(seen)
        if (p, lot) not in known
    ]
    if new:  # another worker may add the same lot at once: the first one stands
        conn.execute(insert(conn, LOTS).on_conflict_do_nothing(), new)
    for (product_id, lot), (expiry, _) in sorted(seen.items()):
        if expiry is not None and (product_id, lot) in known and known[product_id, lot] is None:
            conn.execute(
                update(LOTS)
                .where(LOTS.c.product_id == product_id, LOTS.c.lot == lot, LOTS.c.expiry.is_(None))
                .values(expiry=expiry)
            )


def expiry(conn: Connection, product_id: int, lot: str) -> date | None:
    """A lot's expiry, if the ledger was ever told it."""
    value = conn.execute(
        select(LOTS.c.expiry).where(LOTS.c.product_id == product_id, LOTS.c.lot == lot)
    ).scalar()
    return value if isinstance(value, date) else None


#: What a location holds of some products by lot, with each lot's expiry and first arrival;
#: built once (making a joined select costs more than running it) and FOR UPDATE of the stock.
_BINS = (
    select(
        S.c.product_id,
        S.c.location_id,
        S.c.location_code,
        S.c.lot,
        S.c.on_hand,
        S.c.reserved,
        LOTS.c.expiry,
        LOTS.c.first_seen_at,
    )
    .outerjoin(LOTS, and_(LOTS.c.product_id == S.c.product_id, LOTS.c.lot == S.c.lot))
    .where(
        S.c.product_id.in_(bindparam("products", expanding=True)),
        S.c.location_id == bindparam("location"),
    )
    .order_by(S.c.product_id, S.c.lot)  # the lock order of the projection's rows
)
_BINS_LOCKED = _BINS.with_for_update(of=S)


def bins_at(
    conn: Connection, product_ids: Sequence[int], location_id: int, *, lock: bool
) -> dict[int, list[Bin]]:
    """The products' stock at one location by lot (what is on hand and not reserved), each lot
    with its expiry and when it first arrived; locked until the commit when asked. One
    statement for every product of a basket."""
    query = _BINS_LOCKED if lock and conn.dialect.name == "postgresql" else _BINS
    out: dict[int, list[Bin]] = {p: [] for p in product_ids}
    rows = conn.execute(query, {"products": sorted(set(product_ids)), "location": location_id})
    for r in rows:
        out[r.product_id].append(
            Bin(
                r.location_id,
                r.location_code,
                r.lot,
                Decimal(r.on_hand) - Decimal(r.reserved),
                r.expiry,
                r.first_seen_at,
            )
        )
    return out
