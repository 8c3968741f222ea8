"""Sales and refunds at the point of sale in SQL: a sale with its lines, taxes and tenders, and
refunds against it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from warehouse import pricing
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.adapters.receipts import receipt
from warehouse.pos.service.ports import (
    NewRefund,
    NewSale,
    Pick,
    RefundRecord,
    SaleRecord,
    SoldLine,
)

RF, RFL, SP = pos_tables.pos_refunds, pos_tables.pos_refund_lines, pos_tables.pos_sale_picks
R, S, SL, ST, T = (
    pos_tables.registers,
    pos_tables.pos_sales,
    pos_tables.pos_sale_lines,
    pos_tables.pos_sale_taxes,
    pos_tables.pos_tenders,
)


class SqlPosSales:
    """Sales and refunds of the point of sale's repository."""

    conn: Connection

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
        picks: dict[int, list[Pick]] = {}
        for p in self.conn.execute(select(SP).where(SP.c.sale_pk == row.id).order_by(SP.c.id)):
            picks.setdefault(p.line_no, []).append(
                Pick(p.line_no, p.lot, p.qty, p.serial, p.epc, p.returned, p.id)
            )
        lines = tuple(
            SoldLine(
                r.line_no,
                r.product_id,
                r.sku,
                r.qty,
                r.returned,
                r.total_minor,
                Decimal(r.tax_rate),
                tuple(picks.get(r.line_no, ())),
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
            insert(SL), [_line_row(pk, n, line, sale) for n, line in enumerate(basket.lines, 1)]
        )
        self._add_taxes_and_tenders(pk, sale)
        if sale.picks:
            self.conn.execute(
                insert(SP),
                [
                    {
                        "sale_pk": pk,
                        "line_no": x.line_no,
                        "lot": x.lot,
                        "serial": x.serial,
                        "epc": x.epc,
                        "qty": x.qty,
                        "returned": Decimal(0),
                    }
                    for x in sale.picks
                ],
            )
        return pk

    def _add_taxes_and_tenders(self, pk: int, sale: NewSale) -> None:
        if sale.basket.taxes:
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
                    for t in sale.basket.taxes
                ],
            )
        if sale.settlement.tenders:
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
                    for t in sale.settlement.tenders
                ],
            )

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

    def mark_returned(
        self, sale_pk: int, qty_by_line: dict[int, Decimal], qty_by_pick: dict[int, Decimal]
    ) -> None:
        for line_no, qty in qty_by_line.items():
            self.conn.execute(
                update(SL)
                .where(SL.c.sale_pk == sale_pk, SL.c.line_no == line_no)
                .values(returned=SL.c.returned + qty)
            )
        for pick_id, qty in qty_by_pick.items():
            self.conn.execute(
                update(SP).where(SP.c.id == pick_id).values(returned=SP.c.returned + qty)
            )


def _line_row(
    sale_pk: int, line_no: int, line: pricing.PricedLine, sale: NewSale
) -> dict[str, Any]:
    """A priced line as its row, with the product and its cost when the book knew them."""
    return {
        "sale_pk": sale_pk,
        "line_no": line_no,
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
