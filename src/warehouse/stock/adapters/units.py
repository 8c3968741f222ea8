"""Serialized units and RFID sweeps in SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from warehouse.core import sql
from warehouse.core.sql import chunks, insert
from warehouse.stock.adapters import bulk, tables
from warehouse.stock.service.ports import SerialUnit, Sweep


class SqlUnits:
    """Serialized units and where each one is."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _unit(self, row: Row[Any] | None) -> SerialUnit | None:
        if row is None:
            return None
        return SerialUnit(
            row.product_id,
            row.serial,
            row.epc,
            row.location_id,
            row.lot,
            row.id,
            row.ledger_location_id,
        )

    def find_many(
        self, serials: Iterable[tuple[int, str]], epcs: Iterable[str]
    ) -> list[SerialUnit]:
        """The units with any of these (product, serial) pairs or EPCs, in two or so queries."""
        pairs, tags = sorted(set(serials)), sorted(set(epcs))
        if not pairs and not tags:
            return []
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(
                bulk.UNITS_FIND,
                {
                    "serials": sql.as_json([{"product_id": p, "serial": s} for p, s in pairs]),
                    "epcs": sql.as_json(tags),
                },
            )
            return [u for u in map(self._unit, rows) if u is not None]
        u = tables.serial_units
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
        u = tables.serial_units

        def row(unit: SerialUnit) -> dict[str, Any]:
            return {
                "id": unit.id,
                "product_id": unit.product_id,
                "serial": unit.serial,
                "epc": unit.epc,
                "lot": unit.lot,
                "location_id": unit.location_id,
                "ledger_location_id": unit.ledger_location_id,
            }

        if self.conn.dialect.name == "postgresql":
            if known:
                changed = sql.as_json([row(unit) for unit in known])
                self.conn.execute(bulk.UNITS_UPDATE, {"rows": changed, "at": at})
            if new:
                added = sql.as_json([row(unit) for unit in new])
                self.conn.execute(bulk.UNITS_INSERT, {"rows": added, "at": at})
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
                    ledger_location_id=bindparam("b_ledger"),
                    updated_at=at,
                ),
                [
                    {
                        "b_id": unit.id,
                        "b_serial": unit.serial,
                        "b_epc": unit.epc,
                        "b_lot": unit.lot,
                        "b_location": unit.location_id,
                        "b_ledger": unit.ledger_location_id,
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
        u = tables.serial_units
        conds: list[ColumnElement[bool]] = []
        if serial:
            conds.append((u.c.product_id == product_id) & (u.c.serial == serial))
        if epc:
            conds.append(u.c.epc == epc)
        return self._unit(self.conn.execute(select(u).where(or_(*conds)).limit(1)).first())

    def by_epc(self, epc: str) -> SerialUnit | None:
        u = tables.serial_units
        return self._unit(self.conn.execute(select(u).where(u.c.epc == epc)).first())

    def place(self, unit: SerialUnit, at: datetime) -> None:
        u = tables.serial_units
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
            "ledger_location_id": unit.ledger_location_id,
            "updated_at": at,
        }
        unit_id = self.conn.execute(select(u.c.id).where(or_(*conds)).limit(1)).scalar()
        if unit_id is None:
            self.conn.execute(u.insert().values(**values))
        else:
            self.conn.execute(update(u).where(u.c.id == unit_id).values(**values))

    def at(self, location_id: int) -> list[SerialUnit]:
        """The units at ``location_id`` now."""
        u = tables.serial_units
        rows = self.conn.execute(select(u).where(u.c.location_id == location_id))
        return [unit for unit in map(self._unit, rows) if unit is not None]


class SqlSweeps:
    """RFID sweeps and their differences from the units' locations."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, sweep: Sweep) -> None:
        self.conn.execute(
            tables.rfid_sweeps.insert().values(
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
