"""Price books, registers, cashier sessions, sales and refunds in SQL."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from warehouse import pricing
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.adapters.prices import price_book
from warehouse.pos.adapters.receipts import receipt
from warehouse.pos.service.ports import (
    BookSource,
    NewPriceList,
    NewRefund,
    NewSale,
    RefundRecord,
    RegisterView,
    SaleRecord,
    SessionView,
    SoldLine,
)
from warehouse.stock.adapters import tables as stock_tables

RF, RFL, L = pos_tables.pos_refunds, pos_tables.pos_refund_lines, stock_tables.locations
PL, PR, TR, PM = (
    pos_tables.price_lists,
    pos_tables.prices,
    pos_tables.tax_rates,
    pos_tables.promotions,
)
R, RS, S, SL, ST, T = (
    pos_tables.registers,
    pos_tables.register_sessions,
    pos_tables.pos_sales,
    pos_tables.pos_sale_lines,
    pos_tables.pos_sale_taxes,
    pos_tables.pos_tenders,
)


class SqlPos:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def price_list_exists(self, site: str, name: str) -> bool:
        found = select(PL.c.id).where(PL.c.site == site, PL.c.name == name)
        return self.conn.execute(found).first() is not None

    def add_price_list(self, price_list: NewPriceList, now: datetime) -> int:
        pk = int(
            self.conn.execute(
                insert(PL).returning(PL.c.id),
                {
                    "site": price_list.site,
                    "name": price_list.name,
                    "currency": price_list.currency,
                    "tax_inclusive": price_list.tax_inclusive,
                    "cash_step_minor": price_list.cash_step_minor,
                    "priority": price_list.priority,
                    "valid_from": price_list.valid_from,
                    "valid_to": price_list.valid_to,
                    "created_at": now,
                },
            ).scalar_one()
        )
        if price_list.prices:
            self.conn.execute(
                insert(PR),
                [
                    {
                        "price_list_id": pk,
                        "product_id": x.product_id,
                        "unit_price_minor": x.unit_price_minor,
                        "tax_category": x.tax_category,
                        "unit_cost_minor": x.unit_cost_minor,
                    }
                    for x in price_list.prices
                ],
            )
        return pk

    def add_tax_rate(
        self, site: str, category: str, rate: Decimal, valid_from: date, valid_to: date | None
    ) -> int:
        row = {"site": site, "category": category, "rate": rate}
        row |= {"valid_from": valid_from, "valid_to": valid_to}
        return int(self.conn.execute(insert(TR).returning(TR.c.id), row).scalar_one())

    def promotion_exists(self, site: str, code: str) -> bool:
        found = select(PM.c.id).where(PM.c.site == site, PM.c.code == code)
        return self.conn.execute(found).first() is not None

    def add_promotion(
        self, site: str, promotion: pricing.Promotion, valid: tuple[date | None, date | None]
    ) -> int:
        row = {
            "site": site,
            "code": promotion.code,
            "kind": promotion.kind,
            "skus": json.dumps(list(promotion.skus)),
            "qty": promotion.qty,
            "get_qty": promotion.get,
            "price_minor": promotion.price_minor,
            "valid_from": valid[0],
            "valid_to": valid[1],
        }
        return int(self.conn.execute(insert(PM).returning(PM.c.id), row).scalar_one())

    def price_book(self, site: str, on: date) -> BookSource | None:
        return price_book(self.conn, site, on)

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
        return int(
            self.conn.execute(
                insert(RS).returning(RS.c.id),
                {
                    "register_id": register_id,
                    "cashier": cashier,
                    "status": "open",
                    "float_minor": float_minor,
                    "opened_at": at,
                },
            ).scalar_one()
        )

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
            "sales": int(sales[0]),
            "sales_minor": int(sales[1]),
            "discounts_minor": int(sales[2]),
            "rounding_minor": int(sales[3]),
            "refunds": int(refunds[0]),
            "refunds_minor": int(refunds[1]),
            "tenders": tenders,
            "taxes": dict(sorted(taxes.items(), key=lambda kv: Decimal(kv[0]))),
        }

    def receipt(self, sale_id: str) -> dict[str, Any]:
        return receipt(self.conn, sale_id)

    def sale(self, sale_id: str, *, lock: bool = False) -> SaleRecord | None:
        query = (
            select(S, R.c.code.label("register_code"))
            .join(R, R.c.id == S.c.register_id)
            .where(S.c.sale_id == sale_id)
        )
        if lock:
            query = query.with_for_update(of=S)
        row = self.conn.execute(query).first()
        if row is None:
            return None
        lines = tuple(
            SoldLine(
                r.line_no,
                r.product_id,
                r.sku,
                r.qty,
                r.returned,
                r.total_minor,
                Decimal(r.tax_rate),
            )
            for r in self.conn.execute(
                select(SL).where(SL.c.sale_pk == row.id).order_by(SL.c.line_no)
            )
        )
        tenders = tuple(
            (r.kind, int(r.amount_minor), r.reference)
            for r in self.conn.execute(
                select(T.c.kind, T.c.amount_minor, T.c.reference)
                .where(T.c.sale_pk == row.id)
                .order_by(T.c.id)
            )
        )
        return SaleRecord(
            row.id,
            row.sale_id,
            row.fingerprint,
            row.register_id,
            row.register_code,
            row.site,
            row.receipt_no,
            row.tax_inclusive,
            lines,
            tenders,
        )

    def add_sale(self, sale: NewSale, now: datetime) -> int:
        basket, paid = sale.basket, sale.settlement
        pk = int(
            self.conn.execute(
                insert(S).returning(S.c.id),
                {
                    "sale_id": sale.sale_id,
                    "fingerprint": sale.fingerprint,
                    "register_id": sale.register_id,
                    "session_id": sale.session_id,
                    "receipt_no": sale.receipt_no,
                    "site": sale.site,
                    "currency": basket.currency,
                    "source": sale.source,
                    "cashier": sale.cashier,
                    "occurred_at": sale.occurred_at,
                    "recorded_at": now,
                    "subtotal_minor": basket.subtotal_minor,
                    "discount_minor": basket.discount_minor,
                    "tax_minor": basket.tax_minor,
                    "total_minor": basket.total_minor,
                    "rounding_minor": paid.rounding_minor,
                    "change_minor": paid.change_minor,
                    "reported_total_minor": sale.reported_total_minor,
                    "tax_inclusive": basket.tax_inclusive,
                    "event_id": sale.event_id,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(SL),
            [
                {
                    "sale_pk": pk,
                    "line_no": n,
                    "product_id": sale.product_ids.get(line.sku),
                    "sku": line.sku,
                    "qty": line.qty,
                    "unit_price_minor": line.unit_price_minor,
                    "gross_minor": line.gross_minor,
                    "promotion_minor": line.promotion_minor,
                    "discount_minor": line.discount_minor,
                    "total_minor": line.total_minor,
                    "tax_category": line.tax_category,
                    "tax_rate": line.tax_rate,
                    "unit_cost_minor": sale.costs.get(line.sku),
                    "overridden": line.overridden,
                    "returned": Decimal(0),
                }
                for n, line in enumerate(basket.lines, start=1)
            ],
        )
        if basket.taxes:
            self.conn.execute(
                insert(ST),
                [
                    {
                        "sale_pk": pk,
                        "category": t.category,
                        "rate": t.rate,
                        "base_minor": t.base_minor,
                        "tax_minor": t.tax_minor,
                    }
                    for t in basket.taxes
                ],
            )
        if paid.tenders:
            self.conn.execute(
                insert(T),
                [
                    {
                        "sale_pk": pk,
                        "refund_pk": None,
                        "session_id": sale.session_id,
                        "kind": t.kind,
                        "amount_minor": t.amount_minor,
                        "reference": t.reference,
                    }
                    for t in paid.tenders
                ],
            )
        return pk

    def refund(self, refund_id: str) -> RefundRecord | None:
        row = self.conn.execute(
            select(RF.c.id, RF.c.receipt_no, RF.c.fingerprint, RF.c.total_minor).where(
                RF.c.refund_id == refund_id
            )
        ).first()
        if row is None:
            return None
        tenders = tuple(
            (t.kind, -int(t.amount_minor), t.reference)  # stored as negative payments
            for t in self.conn.execute(
                select(T.c.kind, T.c.amount_minor, T.c.reference)
                .where(T.c.refund_pk == row.id)
                .order_by(T.c.id)
            )
        )
        return RefundRecord(int(row.receipt_no), row.fingerprint, int(row.total_minor), tenders)

    def add_refund(self, refund: NewRefund, now: datetime) -> int:
        pk = int(
            self.conn.execute(
                insert(RF).returning(RF.c.id),
                {
                    "refund_id": refund.refund_id,
                    "fingerprint": refund.fingerprint,
                    "sale_pk": refund.sale_pk,
                    "register_id": refund.register_id,
                    "session_id": refund.session_id,
                    "receipt_no": refund.receipt_no,
                    "cashier": refund.cashier,
                    "total_minor": refund.total_minor,
                    "tax_minor": refund.tax_minor,
                    "reason": refund.reason,
                    "created_at": now,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(RFL),
            [
                {
                    "refund_pk": pk,
                    "line_no": x.line_no,
                    "product_id": x.product_id,
                    "qty": x.qty,
                    "amount_minor": x.amount_minor,
                    "tax_rate": x.tax_rate,
                    "tax_minor": x.tax_minor,
                    "disposition": x.disposition,
                }
                for x in refund.lines
            ],
        )
        self.conn.execute(
            insert(T),
            [
                {
                    "sale_pk": None,
                    "refund_pk": pk,
                    "session_id": refund.session_id,
                    "kind": kind,
                    "amount_minor": -amount,
                    "reference": reference,
                }
                for kind, amount, reference in refund.tenders
            ],
        )
        return pk

    def refunded_tenders(self, sale_pk: int) -> dict[tuple[str, str | None], int]:
        rows = self.conn.execute(
            select(T.c.kind, T.c.reference, func.sum(T.c.amount_minor))
            .join(RF, RF.c.id == T.c.refund_pk)
            .where(RF.c.sale_pk == sale_pk)
            .group_by(T.c.kind, T.c.reference)
        )
        return {(kind, ref): -int(amount) for kind, ref, amount in rows}

    def mark_returned(self, sale_pk: int, qty_by_line: dict[int, Decimal]) -> None:
        for line_no, qty in qty_by_line.items():
            self.conn.execute(
                update(SL)
                .where(SL.c.sale_pk == sale_pk, SL.c.line_no == line_no)
                .values(returned=SL.c.returned + qty)
            )
