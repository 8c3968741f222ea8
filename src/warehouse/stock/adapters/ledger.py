"""The projection and the ledger in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, exists, or_, select, tuple_

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core import sql
from warehouse.core.sql import chunks, insert
from warehouse.core.types import to_plain, to_scaled
from warehouse.stock.adapters import bulk, lots
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.allocation import Bin
from warehouse.stock.domain.model import Movement, StockKey


class SqlStock:
    """The projection: on hand and reserved per product, location and lot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def balances(self, keys: Iterable[StockKey], *, lock: bool) -> dict[StockKey, Decimal]:
        s = stock_tables.stock
        out: dict[StockKey, Decimal] = {}
        wanted = [(k.product_id, k.location_id, k.lot) for k in keys]
        if self.conn.dialect.name == "postgresql":
            keys_json = sql.as_json(
                [{"product_id": p, "location_id": loc, "lot": lot} for p, loc, lot in wanted]
            )
            rows = self.conn.execute(bulk.BALANCES, {"keys": keys_json})
            return {
                StockKey(r.product_id, r.location_id, r.lot): to_plain(
                    Decimal(r.on_hand).scaleb(-6)
                )
                for r in rows
            }
        for part in chunks(wanted, 300):
            query = (
                select(s.c.product_id, s.c.location_id, s.c.lot, s.c.on_hand)
                .where(tuple_(s.c.product_id, s.c.location_id, s.c.lot).in_(part))
                .order_by(s.c.product_id, s.c.location_id, s.c.lot)
            )
            if lock and self.conn.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self.conn.execute(query):
                out[StockKey(row.product_id, row.location_id, row.lot)] = row.on_hand
        return out

    def apply(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None:
        if not deltas:
            return
        s = stock_tables.stock
        if self.conn.dialect.name == "postgresql":
            ordered = sorted(
                deltas.items(), key=lambda kv: (kv[0].product_id, kv[0].location_id, kv[0].lot)
            )
            self.conn.execute(
                bulk.APPLY,
                {
                    "at": at,
                    "rows": sql.as_json(
                        [
                            {
                                "product_id": k.product_id,
                                "location_id": k.location_id,
                                "lot": k.lot,
                                "delta": to_scaled(d),
                            }
                            for k, d in ordered
                        ]
                    ),
                },
            )
            stock_feed.record(self.conn, deltas)
            return
        skus, places = self._names(deltas)
        rows = [
            {
                "product_id": k.product_id,
                "location_id": k.location_id,
                "lot": k.lot,
                "on_hand": delta,
                "reserved": Decimal(0),
                "version": 1,
                "updated_at": at,
                "sku": skus[k.product_id],
                "location_code": places[k.location_id][0],
                "location_path": places[k.location_id][1],
            }
            for k, delta in sorted(
                deltas.items(), key=lambda kv: (kv[0].product_id, kv[0].location_id, kv[0].lot)
            )
        ]
        stmt = insert(self.conn, s)
        stmt = stmt.on_conflict_do_update(
            index_elements=[s.c.product_id, s.c.location_id, s.c.lot],
            set_={
                "on_hand": s.c.on_hand + stmt.excluded.on_hand,
                "version": s.c.version + 1,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        self.conn.execute(stmt, rows)
        stock_feed.record(self.conn, deltas)

    def _names(
        self, deltas: Mapping[StockKey, Decimal]
    ) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
        """SKUs, and location codes and paths, of the keys (the rows list by them)."""
        p, loc = catalog_tables.products, stock_tables.locations
        skus = dict(
            self.conn.execute(
                select(p.c.id, p.c.sku).where(p.c.id.in_({k.product_id for k in deltas}))
            ).all()
        )
        places = {
            row.id: (row.code, row.path)
            for row in self.conn.execute(
                select(loc.c.id, loc.c.code, loc.c.path).where(
                    loc.c.id.in_({k.location_id for k in deltas})
                )
            )
        }
        return skus, places

    def bins_at(
        self, product_ids: Sequence[int], location_id: int, *, lock: bool
    ) -> dict[int, list[Bin]]:
        return lots.bins_at(self.conn, product_ids, location_id, lock=lock)

    def lot_expiry(self, product_id: int, lot: str) -> date | None:
        return lots.expiry(self.conn, product_id, lot)

    def in_use(self, *, product_id: int | None = None, location_id: int | None = None) -> bool:
        m = stock_tables.movements
        if product_id is not None:
            cond = m.c.product_id == product_id
        else:
            cond = or_(m.c.from_location_id == location_id, m.c.to_location_id == location_id)
        return bool(self.conn.execute(select(exists().where(cond))).scalar())


class SqlLedger:
    """The append-only movement ledger."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, movements: Sequence[Movement], recorded_at: datetime) -> list[int]:
        if not movements:
            return []
        lots.note(self.conn, movements)
        m = stock_tables.movements
        rows = [
            {
                "kind": mv.kind.value,
                "product_id": mv.product.id,
                "qty": mv.qty,
                "from_location_id": mv.source.id,
                "to_location_id": mv.destination.id,
                "lot": mv.lot,
                "serial": mv.serial,
                "epc": mv.epc,
                "expiry": mv.expiry,
                "code": mv.code,
                "order_ref": mv.order_ref,
                "occurred_at": mv.occurred_at,
                "recorded_at": recorded_at,
                "origin": mv.origin,
                "event_id": mv.event_id,
                "agent_id": mv.agent_id,
                "device": mv.device,
                "station": mv.station,
                "actor": mv.actor,
                "flags": ",".join(mv.flags),
            }
            for mv in movements
        ]
        if self.conn.dialect.name == "postgresql":
            for n, (row, mv) in enumerate(zip(rows, movements, strict=True)):
                row["qty"] = to_scaled(mv.qty)
                row["n"] = n
            return sorted(
                self.conn.execute(bulk.LEDGER, {"rows": sql.as_json(rows)}).scalars().all()
            )
        if len(rows) == 1:
            return [self.conn.execute(m.insert().returning(m.c.id), rows[0]).scalar_one()]
        result = self.conn.execute(m.insert().returning(m.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
