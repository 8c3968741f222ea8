"""Cost positions, valuation entries and the costs known from outside, in SQL.

On PostgreSQL costing a batch is two round trips: the positions' rows read FOR UPDATE (a row per
product and site, its layers as JSON, so one row lock serialises everything that costs that
position), then one statement that rewrites them and inserts the batch's entries. Positions
seen for the first time are inserted empty first (ON CONFLICT DO NOTHING) and read again, so two
transactions never both start from an empty one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, func, select, text, tuple_

from warehouse.core import sql
from warehouse.core.sql import chunks, insert
from warehouse.core.types import to_scaled
from warehouse.orders.adapters import tables as order_tables
from warehouse.valuation.adapters import tables
from warehouse.valuation.domain import Entry, Layer, Method, Origins, Position

P, E = tables.cost_positions, tables.valuation_entries
#: A purchase order line's unit cost by (order ref, product), None for a line without one, per
#: database: lines never change once ordered, so a process keeps what it read (a ref with no
#: line yet is asked again: its order may come).
_PO_COSTS: WeakKeyDictionary[Engine, dict[tuple[str, int], Decimal | None]] = WeakKeyDictionary()
SIX = Decimal("0.000001")
_READ = text("""
    SELECT c.product_id, c.site, c.layers FROM cost_positions AS c
    JOIN jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(product_id bigint, site varchar)
      ON c.product_id = k.product_id AND c.site = k.site
    ORDER BY c.product_id, c.site
    FOR UPDATE OF c
""")
_CREATE = text("""
    INSERT INTO cost_positions (product_id, site, layers, updated_at)
    SELECT k.product_id, k.site, CAST('[]' AS jsonb), CAST(:at AS timestamptz)
    FROM jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(product_id bigint, site varchar)
    ORDER BY k.product_id, k.site
    ON CONFLICT (product_id, site) DO NOTHING
""")
#: The positions rewritten and the entries inserted in one round trip: a data-modifying CTE
#: runs whether or not the statement reads it.
_STORE = text("""
    WITH saved AS (
        UPDATE cost_positions AS c SET layers = r.layers, updated_at = CAST(:at AS timestamptz)
        FROM jsonb_to_recordset(CAST(:positions AS jsonb))
             AS r(product_id bigint, site varchar, layers jsonb)
        WHERE c.product_id = r.product_id AND c.site = r.site
        RETURNING 1
    )
    INSERT INTO valuation_entries (movement_id, product_id, site, kind, qty, value_minor,
        variance_minor, source, ref, occurred_at, recorded_at)
    SELECT r.movement_id, r.product_id, r.site, r.kind, r.qty, r.value_minor, r.variance_minor,
           r.source, r.ref, r.occurred_at, CAST(:at AS timestamptz)
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        movement_id bigint, product_id bigint, site varchar, kind varchar, qty bigint,
        value_minor bigint, variance_minor bigint, source varchar, ref varchar,
        occurred_at timestamptz)
""")  # json, not jsonb: read once, it need not be built into a tree


def layers_of(stored: Any) -> list[Layer]:
    """A position's layers from their JSON."""
    return [Layer(Decimal(q), int(v), Decimal(u)) for q, v, u in stored or []]


def layers_json(position: Position) -> list[list[Any]]:
    """A position's layers as JSON (decimals as strings, the unit cost to six places)."""
    return [[str(x.qty), x.value, str(x.unit_cost.quantize(SIX))] for x in position.layers]


class SqlCosts:
    """Positions as rows of ``cost_positions``; entries as rows of ``valuation_entries``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def positions(
        self, keys: Sequence[tuple[int, str]], methods: dict[int, tuple[Method, int | None]]
    ) -> dict[tuple[int, str], Position]:
        out = {(p, s): Position(p, s, methods[p][0], methods[p][1]) for p, s in keys}
        if self.conn.dialect.name == "postgresql":
            found = self._read_locked(keys)
            missing = [k for k in keys if k not in found]
            if missing:
                at = datetime.now().astimezone()
                self.conn.execute(_CREATE, {"keys": _keys_json(missing), "at": at})
                found.update(self._read_locked(missing))
        else:
            found = {}
            for part in chunks(list(keys), 300):
                query = select(P.c.product_id, P.c.site, P.c.layers).where(
                    tuple_(P.c.product_id, P.c.site).in_(part)
                )
                found.update({(r[0], r[1]): r[2] for r in self.conn.execute(query)})
        for key, stored in found.items():
            out[key].layers = layers_of(stored)
            out[key].merge()
        return out

    def _read_locked(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], Any]:
        rows = self.conn.execute(_READ, {"keys": _keys_json(keys)})
        return {(r.product_id, r.site): r.layers for r in rows}

    def store(
        self,
        positions: Iterable[Position],
        entries: Sequence[Entry],
        movement_ids: Sequence[int],
        occurred: Mapping[int, datetime],
        at: datetime,
    ) -> None:
        rows = [
            {"product_id": p.product_id, "site": p.site, "layers": layers_json(p)}
            for p in positions
        ]
        pg = self.conn.dialect.name == "postgresql"
        made = _entry_rows(entries, movement_ids, occurred, at, pg)
        if pg:
            self.conn.execute(
                _STORE, {"positions": sql.as_json(rows), "rows": sql.as_json(made), "at": at}
            )
            return
        if rows:
            stmt = insert(self.conn, P)
            stmt = stmt.on_conflict_do_update(
                index_elements=[P.c.product_id, P.c.site],
                set_={"layers": stmt.excluded.layers, "updated_at": stmt.excluded.updated_at},
            )
            self.conn.execute(stmt, [{**r, "updated_at": at} for r in rows])
        if made:
            self.conn.execute(E.insert(), made)

    def sites_of(self, product_id: int) -> list[str]:
        query = select(P.c.site).where(P.c.product_id == product_id).order_by(P.c.site)
        return list(self.conn.execute(query).scalars())

    def purchase_costs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Decimal]:
        po, line = order_tables.purchase_orders, order_tables.purchase_order_lines
        known = _PO_COSTS.setdefault(self.conn.engine, {})
        wanted = sorted(set(keys) - known.keys())
        for part in chunks(wanted, 300):
            rows = self.conn.execute(
                select(po.c.ref, line.c.product_id, func.min(line.c.unit_cost_minor))
                .join(po, po.c.id == line.c.order_id)
                .where(tuple_(po.c.ref, line.c.product_id).in_(part))
                .group_by(po.c.ref, line.c.product_id)
            )
            if len(known) > 100_000:
                known.clear()
            for ref, product_id, cost in rows:
                known[(ref, product_id)] = Decimal(cost) if cost is not None else None
        found = ((k, known.get(k)) for k in keys)
        return {k: cost for k, cost in found if cost is not None}

    def origins(self, keys: Iterable[tuple[str, int]], kind: str) -> Origins:
        wanted = sorted(set(keys))
        out: Origins = {}
        for part in chunks(wanted, 300):
            rows = self.conn.execute(
                select(E.c.ref, E.c.product_id, func.sum(E.c.qty), func.sum(E.c.value_minor))
                .where(tuple_(E.c.ref, E.c.product_id).in_(part), E.c.kind == kind)
                .group_by(E.c.ref, E.c.product_id)
            )
            out.update({(r[0], r[1]): (-Decimal(r[2]), -int(r[3])) for r in rows})
        return out


def _keys_json(keys: Sequence[tuple[int, str]]) -> str:
    return sql.as_json([{"product_id": p, "site": s} for p, s in sorted(keys)])


def _entry_rows(
    entries: Sequence[Entry],
    movement_ids: Sequence[int],
    occurred: Mapping[int, datetime],
    at: datetime,
    scaled: bool,
) -> list[dict[str, Any]]:
    """Entries as rows (a negative index: no movement made it, a revaluation)."""
    rows = [
        {
            "movement_id": movement_ids[e.index] if e.index >= 0 else None,
            "product_id": e.product_id,
            "site": e.site,
            "kind": e.kind.value,
            "qty": to_scaled(e.qty) if scaled else e.qty,
            "value_minor": e.value,
            "variance_minor": e.variance,
            "source": e.source.value,
            "ref": e.ref,
            "occurred_at": occurred[e.index] if e.index >= 0 else at,
        }
        for e in entries
    ]
    if not scaled:  # PostgreSQL's statement takes it once, as a parameter
        for row in rows:
            row["recorded_at"] = at
    return rows
