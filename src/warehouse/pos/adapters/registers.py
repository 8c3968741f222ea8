"""Registers and cashier sessions in SQL: receipt numbers, sessions opened and closed, and a
session's totals for its X and Z reports."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from warehouse import pricing
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.service.ports import (
    NewDrawerEvent,
    RegisterView,
    SessionView,
)
from warehouse.stock.adapters import tables as stock_tables

RF, RFL, L = pos_tables.pos_refunds, pos_tables.pos_refund_lines, stock_tables.locations
D = pos_tables.pos_drawer_events
R, RS, S, ST, T = (
    pos_tables.registers,
    pos_tables.register_sessions,
    pos_tables.pos_sales,
    pos_tables.pos_sale_taxes,
    pos_tables.pos_tenders,
)


class SqlRegisters:
    """Registers and cashier sessions of the point of sale's repository."""

    conn: Connection

    def _register(self, *where: Any) -> RegisterView | None:
        row = self.conn.execute(
            select(R.c.id, R.c.code, R.c.site, R.c.location_id, L.c.code.label("loc"))
            .join(L, L.c.id == R.c.location_id)
            .where(*where)
        ).first()
        return (
            None
            if row is None
            else RegisterView(row.id, row.code, row.site, row.location_id, row.loc)
        )

    def register(self, code: str) -> RegisterView | None:
        return self._register(R.c.code == code)

    def register_at(self, location_id: int) -> RegisterView | None:
        return self._register(R.c.location_id == location_id)

    def add_register(self, code: str, location_id: int, site: str, now: datetime) -> int:
        return int(
            self.conn.execute(
                insert(R).returning(R.c.id),
                {
                    "code": code,
                    "location_id": location_id,
                    "site": site,
                    "next_receipt": 1,
                    "created_at": now,
                },
            ).scalar_one()
        )

    def lock(self, register_id: int) -> None:
        self.conn.execute(select(R.c.id).where(R.c.id == register_id).with_for_update())

    def take_receipt_no(self, register_id: int, wanted: int | None = None) -> int:
        current = self.conn.execute(
            select(R.c.next_receipt).where(R.c.id == register_id).with_for_update()
        ).scalar_one()
        number = current
        if wanted is not None:
            taken = self.conn.execute(
                select(S.c.id).where(S.c.register_id == register_id, S.c.receipt_no == wanted)
            ).first()
            number = current if taken is not None else wanted
        self.conn.execute(
            update(R).where(R.c.id == register_id).values(next_receipt=max(current, number + 1))
        )
        return int(number)

    def open_session(self, register_id: int, cashier: str, float_minor: int, at: datetime) -> int:
        return self._insert_session(register_id, cashier, float_minor, at)

    def _insert_session(
        self, register_id: int, cashier: str, float_minor: int, at: datetime, **more: Any
    ) -> int:
        values = {
            "register_id": register_id,
            "cashier": cashier,
            "status": "open",
            "float_minor": float_minor,
            "opened_at": at,
            **more,
        }
        return int(self.conn.execute(insert(RS).returning(RS.c.id), values).scalar_one())

    def _session(self, *where: Any, lock: bool = False) -> SessionView | None:
        query = (
            select(RS, R.c.code.label("register_code"), R.c.site)
            .join(R, R.c.id == RS.c.register_id)
            .where(*where)
            .order_by(RS.c.opened_at.desc(), RS.c.id.desc())
        )
        if lock:
            query = query.with_for_update(of=RS)
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return SessionView(
            row.id,
            row.register_id,
            row.register_code,
            row.site,
            row.cashier,
            row.status,
            row.float_minor,
            row.opened_at,
            row.closed_at,
            row.counted_minor,
            json.loads(row.z_report) if row.z_report else None,
            row.source,
            row.session_no,
        )

    def session(self, session_id: int, *, lock: bool = False) -> SessionView | None:
        return self._session(RS.c.id == session_id, lock=lock)

    def open_session_of(self, register_id: int, at: datetime) -> SessionView | None:
        return self._session(
            RS.c.register_id == register_id,
            RS.c.opened_at <= at,
            or_(RS.c.closed_at.is_(None), RS.c.closed_at > at),
        )

    def close_session(
        self, session_id: int, counted_minor: int, report: dict[str, Any], at: datetime
    ) -> None:
        self.conn.execute(
            update(RS)
            .where(RS.c.id == session_id)
            .values(
                status="closed",
                closed_at=at,
                counted_minor=counted_minor,
                z_report=json.dumps(report, sort_keys=True),
            )
        )

    def edge_session(
        self, register_id: int, session_no: int, *, lock: bool = False
    ) -> SessionView | None:
        return self._session(
            RS.c.register_id == register_id, RS.c.session_no == session_no, lock=lock
        )

    def add_edge_session(
        self, register_id: int, session_no: int, cashier: str, float_minor: int, at: datetime
    ) -> int:
        return self._insert_session(
            register_id, cashier, float_minor, at, source="edge", session_no=session_no
        )

    def update_session(self, session_id: int, **values: Any) -> None:
        self.conn.execute(update(RS).where(RS.c.id == session_id).values(**values))

    def add_drawer(self, event: NewDrawerEvent) -> int:
        return int(
            self.conn.execute(
                insert(D).returning(D.c.id),
                {
                    "session_id": event.session_id,
                    "kind": event.kind,
                    "amount_minor": event.amount_minor,
                    "reason": event.reason,
                    "cashier": event.cashier,
                    "occurred_at": event.occurred_at,
                    "event_id": event.event_id,
                },
            ).scalar_one()
        )

    def _drawer_totals(self, session_id: int) -> dict[str, int]:
        drawer = {
            kind: (int(n), int(amount))
            for kind, n, amount in self.conn.execute(
                select(D.c.kind, func.count(), func.coalesce(func.sum(D.c.amount_minor), 0))
                .where(D.c.session_id == session_id)
                .group_by(D.c.kind)
            )
        }
        return {
            "paid_in_minor": drawer.get("paid_in", (0, 0))[1],
            "paid_out_minor": drawer.get("paid_out", (0, 0))[1],
            "no_sales": drawer.get("no_sale", (0, 0))[0],
        }

    def session_totals(self, session_id: int) -> dict[str, Any]:
        sales = self.conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(S.c.total_minor), 0),
                func.coalesce(func.sum(S.c.discount_minor), 0),
                func.coalesce(func.sum(S.c.rounding_minor), 0),
            ).where(S.c.session_id == session_id)
        ).one()
        refunds = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(RF.c.total_minor), 0)).where(
                RF.c.session_id == session_id
            )
        ).one()
        tenders = {
            kind: int(amount)
            for kind, amount in self.conn.execute(
                select(T.c.kind, func.sum(T.c.amount_minor))
                .where(T.c.session_id == session_id)
                .group_by(T.c.kind)
                .order_by(T.c.kind)
            )
        }
        taxes: dict[str, dict[str, int]] = {}
        for rate, base, tax in self.conn.execute(
            select(ST.c.rate, func.sum(ST.c.base_minor), func.sum(ST.c.tax_minor))
            .join(S, S.c.id == ST.c.sale_pk)
            .where(S.c.session_id == session_id)
            .group_by(ST.c.rate)
        ):
            taxes[pricing.plain(Decimal(rate))] = {"base_minor": int(base), "tax_minor": int(tax)}
        for rate, amount, tax in self.conn.execute(
            select(RFL.c.tax_rate, func.sum(RFL.c.amount_minor), func.sum(RFL.c.tax_minor))
            .join(RF, RF.c.id == RFL.c.refund_pk)
            .where(RF.c.session_id == session_id)
            .group_by(RFL.c.tax_rate)
        ):
            entry = taxes.setdefault(
                pricing.plain(Decimal(rate)), {"base_minor": 0, "tax_minor": 0}
            )
            entry["tax_minor"] -= int(tax)
            entry["base_minor"] -= int(amount) - int(tax)
        return {
            **self._drawer_totals(session_id),
            "sales": int(sales[0]),
            "sales_minor": int(sales[1]),
            "discounts_minor": int(sales[2]),
            "rounding_minor": int(sales[3]),
            "refunds": int(refunds[0]),
            "refunds_minor": int(refunds[1]),
            "tenders": tenders,
            "taxes": dict(sorted(taxes.items(), key=lambda kv: Decimal(kv[0]))),
        }
