"""The projection, the ledger, serialized units and RFID sweeps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, exists, or_, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from warehouse.adapters import orm, pg_bulk, stock_feed
from warehouse.adapters.sql import chunks, insert
from warehouse.adapters.types import to_plain, to_scaled
from warehouse.domain.model import Movement, StockKey
from warehouse.service_layer.ports import SerialUnit, Sweep


class SqlStock:
    """The projection: on hand and reserved per product, location and lot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def balances(self, keys: Iterable[StockKey], *, lock: bool) -> dict[StockKey, Decimal]:
        s = orm.stock
        out: dict[StockKey, Decimal] = {}
        wanted = [(k.product_id, k.location_id, k.lot) for k in keys]
        if self.conn.dialect.name == "postgresql":
            keys_json = pg_bulk.as_json(
                [{"product_id": p, "location_id": loc, "lot": lot} for p, loc, lot in wanted]
            )
            rows = self.conn.execute(pg_bulk.BALANCES, {"keys": keys_json})
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
        s = orm.stock
        if self.conn.dialect.name == "postgresql":
            ordered = sorted(
                deltas.items(), key=lambda kv: (kv[0].product_id, kv[0].location_id, kv[0].lot)
            )
            self.conn.execute(
                pg_bulk.APPLY,
                {
                    "at": at,
                    "rows": pg_bulk.as_json(
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
        p, loc = orm.products, orm.locations
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

    def in_use(self, *, product_id: int | None = None, location_id: int | None = None) -> bool:
        m = orm.movements
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
        m = orm.movements
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
                self.conn.execute(pg_bulk.LEDGER, {"rows": pg_bulk.as_json(rows)}).scalars().all()
            )
        if len(rows) == 1:
            return [self.conn.execute(m.insert().returning(m.c.id), rows[0]).scalar_one()]
        result = self.conn.execute(m.insert().returning(m.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())


class SqlUnits:
    """Serialized units and where each one is."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _unit(self, row: Row[Any] | None) -> SerialUnit | None:
        if row is None:
            return None
        return SerialUnit(row.product_id, row.serial, row.epc, row.location_id, row.lot, row.id)

    def find_many(
        self, serials: Iterable[tuple[int, str]], epcs: Iterable[str]
    ) -> list[SerialUnit]:
        """The units with any of these (product, serial) pairs or EPCs, in two or so queries."""
        pairs, tags = sorted(set(serials)), sorted(set(epcs))
        if not pairs and not tags:
            return []
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(
                pg_bulk.UNITS_FIND,
                {
                    "serials": pg_bulk.as_json([{"product_id": p, "serial": s} for p, s in pairs]),
                    "epcs": pg_bulk.as_json(tags),
                },
            )
            return [u for u in map(self._unit, rows) if u is not None]
        u = orm.serial_units
        found: dict[int, SerialUnit] = {}
        queries = [
            select(u).where(tuple_(u.c.product_id, u.c.serial).in_(list(part)))
            for part in chunks(pairs, 300)
        ] + [select(u).where(u.c.epc.in_(list(part))) for part in chunks(tags, 500)]
        for query in queries:
            for unit in map(self._unit, self.conn.execute(query)):
                if unit is not None and unit.id is not None:
                    found[unit.id] = unit
        return list(found.values())

    def place_many(self, units: Sequence[SerialUnit], at: datetime) -> None:
        """Store where each unit is now: known ones (with an id) updated, new ones inserted."""
        known = sorted((unit for unit in units if unit.id is not None), key=lambda x: x.id or 0)
        new = [unit for unit in units if unit.id is None]
        u = orm.serial_units

        def row(unit: SerialUnit) -> dict[str, Any]:
            return {
                "id": unit.id,
                "product_id": unit.product_id,
                "serial": unit.serial,
                "epc": unit.epc,
                "lot": unit.lot,
                "location_id": unit.location_id,
            }

        if self.conn.dialect.name == "postgresql":
            if known:
                changed = pg_bulk.as_json([row(unit) for unit in known])
                self.conn.execute(pg_bulk.UNITS_UPDATE, {"rows": changed, "at": at})
            if new:
                added = pg_bulk.as_json([row(unit) for unit in new])
                self.conn.execute(pg_bulk.UNITS_INSERT, {"rows": added, "at": at})
            return
        if known:
            self.conn.execute(
                update(u)
                .where(u.c.id == bindparam("b_id"))
                .values(
                    serial=bindparam("b_serial"),
                    epc=bindparam("b_epc"),
                    lot=bindparam("b_lot"),
                    location_id=bindparam("b_location"),
                    updated_at=at,
                ),
                [
                    {
                        "b_id": unit.id,
                        "b_serial": unit.serial,
                        "b_epc": unit.epc,
                        "b_lot": unit.lot,
                        "b_location": unit.location_id,
                    }
                    for unit in known
                ],
            )
        if new:
            inserted = [{**row(unit), "updated_at": at} for unit in new]
            for values in inserted:
                del values["id"]
            self.conn.execute(insert(self.conn, u).on_conflict_do_nothing(), inserted)

    def find(self, product_id: int, serial: str | None, epc: str | None) -> SerialUnit | None:
        u = orm.serial_units
        conds: list[ColumnElement[bool]] = []
        if serial:
            conds.append((u.c.product_id == product_id) & (u.c.serial == serial))
        if epc:
            conds.append(u.c.epc == epc)
        return self._unit(self.conn.execute(select(u).where(or_(*conds)).limit(1)).first())

    def by_epc(self, epc: str) -> SerialUnit | None:
        u = orm.serial_units
        return self._unit(self.conn.execute(select(u).where(u.c.epc == epc)).first())

    def place(self, unit: SerialUnit, at: datetime) -> None:
        u = orm.serial_units
        conds: list[ColumnElement[bool]] = []
        if unit.serial:
            conds.append((u.c.product_id == unit.product_id) & (u.c.serial == unit.serial))
        if unit.epc:
            conds.append(u.c.epc == unit.epc)
        values = {
            "product_id": unit.product_id,
            "serial": unit.serial,
            "epc": unit.epc,
            "lot": unit.lot,
            "location_id": unit.location_id,
            "updated_at": at,
        }
        unit_id = self.conn.execute(select(u.c.id).where(or_(*conds)).limit(1)).scalar()
        if unit_id is None:
            self.conn.execute(u.insert().values(**values))
        else:
            self.conn.execute(update(u).where(u.c.id == unit_id).values(**values))

    def epcs_at(self, location_id: int) -> set[str]:
        u = orm.serial_units
        return set(
            self.conn.execute(
                select(u.c.epc).where(u.c.location_id == location_id, u.c.epc.is_not(None))
            ).scalars()
        )


class SqlSweeps:
    """RFID sweeps and their differences from the units' locations."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, sweep: Sweep) -> None:
        self.conn.execute(
            orm.rfid_sweeps.insert().values(
                event_id=sweep.event_id,
                agent_id=sweep.agent_id,
                location_id=sweep.location_id,
                swept_at=sweep.at,
                expected=sweep.expected,
                observed=sweep.observed,
                missing=json.dumps(sorted(sweep.missing)),
                unexpected=json.dumps(sorted(sweep.unexpected)),
            )
        )
