"""The point of sale page's day: takings by tender and the refunds, at one site since a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from warehouse.pos.adapters import tables as pos_tables

S, RF, R, T = (
    pos_tables.pos_sales,
    pos_tables.pos_refunds,
    pos_tables.registers,
    pos_tables.pos_tenders,
)


def takings_by_tender(conn: Connection, site: str, since: datetime) -> list[dict[str, Any]]:
    """Per tender kind: what sales took and refunds gave back (negative), in minor units."""
    query = (
        select(T.c.kind, func.count(), func.sum(T.c.amount_minor))
        .select_from(T.outerjoin(S, S.c.id == T.c.sale_pk).outerjoin(RF, RF.c.id == T.c.refund_pk))
        .outerjoin(R, R.c.id == func.coalesce(S.c.register_id, RF.c.register_id))
        .where(R.c.site == site)
        .where(or_(S.c.occurred_at >= since, RF.c.created_at >= since))
        .group_by(T.c.kind)
        .order_by(T.c.kind)
    )
    return [
        {"tender": kind, "count": int(n), "amount_minor": int(total or 0)}
        for kind, n, total in conn.execute(query)
    ]


def refunds(conn: Connection, site: str, since: datetime) -> list[dict[str, Any]]:
    """The site's refunds since ``since``, newest first, with the receipt they refund."""
    query = (
        select(RF.c.refund_id, R.c.code, RF.c.receipt_no, RF.c.cashier, RF.c.total_minor)
        .add_columns(RF.c.reason, RF.c.created_at, S.c.receipt_no.label("sale_receipt"))
        .select_from(RF.join(R, R.c.id == RF.c.register_id).outerjoin(S, S.c.id == RF.c.sale_pk))
        .where(R.c.site == site, RF.c.created_at >= since)
        .order_by(RF.c.created_at.desc())
        .limit(50)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
