"""Cost layers, valuation entries and the costs known from outside, in SQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, text, tuple_, update

from warehouse.core.sql import chunks
from warehouse.orders.adapters import tables as order_tables
from warehouse.valuation.adapters import tables
from warehouse.valuation.domain import Entry, Layer, Method, Origins, Position

L, E = tables.cost_layers, tables.valuation_entries
SIX = Decimal("0.000001")
_LOCK = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k")


def lock_key(product_id: int, site: str) -> int:
    """A 63-bit advisory lock key for a position (a collision only makes two wait)."""
    digest = hashlib.blake2b(f"cost:{product_id}:{site}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class SqlCosts:
    """Positions as rows of ``cost_layers``; entries as rows of ``valuation_entries``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._stored: dict[int, tuple[Decimal, int, Decimal]] = {}

    def positions(
        self, keys: Sequence[tuple[int, str]], methods: dict[int, tuple[Method, int | None]]
    ) -> dict[tuple[int, str], Position]:
        out = {(p, s): Position(p, s, methods[p][0], methods[p][1]) for p, s in keys}
        if self.conn.dialect.name == "postgresql":  # a position's layers: one writer at a time
            self.conn.execute(_LOCK, {"keys": sorted({lock_key(p, s) for p, s in keys})})
        for part in chunks(list(keys), 300):
            rows = self.conn.execute(
                select(L.c.id, L.c.product_id, L.c.site, L.c.qty, L.c.value_minor, L.c.unit_cost)
                .where(tuple_(L.c.product_id, L.c.site).in_(part))
                .order_by(L.c.product_id, L.c.site, L.c.id)
            )
            for r in rows:
                out[(r.product_id, r.site)].layers.append(
                    Layer(r.qty, r.value_minor, r.unit_cost, r.id)
                )
                self._stored[r.id] = (r.qty, r.value_minor, r.unit_cost)
        for position in out.values():
            position.merge()
        return out

    def save(self, positions: Iterable[Position], at: datetime) -> None:
        gone: list[int] = []
        changed: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        for position in positions:
            gone += position.gone
            for layer in position.layers:
                unit = layer.unit_cost.quantize(SIX)
                row = {"qty": layer.qty, "value_minor": layer.value, "unit_cost": unit}
                if layer.id is None:
                    new.append(
                        {
                            **row,
                            "product_id": position.product_id,
                            "site": position.site,
                            "updated_at": at,
                        }
                    )
                elif self._stored.get(layer.id) != (layer.qty, layer.value, unit):
                    changed.append({**row, "layer_id": layer.id, "updated_at": at})
        if gone:
            self.conn.execute(delete(L).where(L.c.id.in_(sorted(set(gone)))))
        if changed:
            self.conn.execute(
                update(L)
                .where(L.c.id == bindparam("layer_id"))
                .values(
                    qty=bindparam("qty"),
                    value_minor=bindparam("value_minor"),
                    unit_cost=bindparam("unit_cost"),
                    updated_at=bindparam("updated_at"),
                ),
                changed,
            )
        if new:
            self.conn.execute(L.insert(), new)

    def add(
        self,
        entries: Sequence[Entry],
        movement_ids: Sequence[int],
        occurred: Sequence[datetime],
        at: datetime,
    ) -> None:
        if not entries:
            return
        rows = [
            {
                "movement_id": movement_ids[e.index] if e.index >= 0 else None,
                "product_id": e.product_id,
                "site": e.site,
                "kind": e.kind.value,
                "qty": e.qty,
                "value_minor": e.value,
                "variance_minor": e.variance,
                "source": e.source.value,
                "ref": e.ref,
                "occurred_at": occurred[e.index] if e.index >= 0 else at,
                "recorded_at": at,
            }
            for e in entries
        ]
        self.conn.execute(E.insert(), rows)

    def sites_of(self, product_id: int) -> list[str]:
        query = select(L.c.site).where(L.c.product_id == product_id).distinct().order_by(L.c.site)
        return list(self.conn.execute(query).scalars())

    def purchase_costs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Decimal]:
        po, line = order_tables.purchase_orders, order_tables.purchase_order_lines
        wanted = sorted(set(keys))
        out: dict[tuple[str, int], Decimal] = {}
        for part in chunks(wanted, 300):
            rows = self.conn.execute(
                select(po.c.ref, line.c.product_id, func.min(line.c.unit_cost_minor))
                .join(po, po.c.id == line.c.order_id)
                .where(
                    tuple_(po.c.ref, line.c.product_id).in_(part),
                    line.c.unit_cost_minor.is_not(None),
                )
                .group_by(po.c.ref, line.c.product_id)
            )
            out.update({(r[0], r[1]): Decimal(r[2]) for r in rows})
        return out

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
