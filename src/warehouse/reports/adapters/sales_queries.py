"""Sales and tax reports of the point of sale: by day, product, register or cashier, top sellers,
margin where the cost is known (what the sale's movements cost, from valuation; else the price
book's cost), tax per rate net of refunds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, Float, case, cast, func, select, type_coerce

from warehouse.core.errors import QueryRule
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.adapters.prices import plain_rate
from warehouse.pricing import plain
from warehouse.valuation.adapters import tables as valuation_tables

S, SL, ST, R = (
    pos_tables.pos_sales,
    pos_tables.pos_sale_lines,
    pos_tables.pos_sale_taxes,
    pos_tables.registers,
)
RF, RFL = pos_tables.pos_refunds, pos_tables.pos_refund_lines
VE = valuation_tables.valuation_entries


GROUPS = ("day", "product", "register", "cashier")


def sales_report(
    conn: Connection,
    group_by: str,
    sites: Iterable[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Sales grouped by day, product, register or cashier: sales, quantity, net of discounts,
    the discounts, the quantity returned since, and cost and margin where every line's cost is
    known (refunds in money are in the tax report and the Z report)."""
    if group_by not in GROUPS:
        raise QueryRule(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
    where = _sales_between(sites, since, until)
    key = _group_key(conn, group_by)
    raw_qty = type_coerce(SL.c.qty, BigInteger)  # stored in millionths
    sold = _sale_costs()
    real = cast(raw_qty, Float) * sold.c.value / sold.c.qty  # minor units
    book = cast(SL.c.unit_cost_minor * raw_qty, Float) / 1e6
    costed = (sold.c.qty > 0) & (sold.c.value > 0)  # a cost of nothing is a cost not known
    known = costed | SL.c.unit_cost_minor.is_not(None)
    cost = func.sum(case((costed, real), else_=book))
    query = (
        select(
            key.label("key"),
            func.count(func.distinct(S.c.id)).label("sales"),
            func.sum(raw_qty).label("qty"),
            func.sum(SL.c.total_minor).label("net_minor"),
            func.sum(SL.c.discount_minor + SL.c.promotion_minor).label("discount_minor"),
            cost.label("cost"),
            func.count(case((known, 1))).label("costed"),
            func.count(SL.c.id).label("lines"),
            func.sum(type_coerce(SL.c.returned, BigInteger)).label("returned"),
        )
        .select_from(
            S.join(SL, SL.c.sale_pk == S.c.id)
            .join(R, R.c.id == S.c.register_id)
            .outerjoin(sold, (sold.c.ref == S.c.sale_id) & (sold.c.product_id == SL.c.product_id))
        )
        .where(*where)
        .group_by(key)
    )
    if limit is not None:  # top sellers: by quantity
        query = query.order_by(func.sum(raw_qty).desc(), key).limit(limit)
    else:
        query = query.order_by(key)
    return [_sales_row(group_by, r) for r in conn.execute(query)]


def _sale_costs() -> Any:
    """What each sale's movements of each product cost when they left (valuation's cost of
    goods sold under the sale's id; its returns are apart): value and qty in millionths."""
    raw = type_coerce(VE.c.qty, BigInteger)
    return (
        select(
            VE.c.ref,
            VE.c.product_id,
            func.sum(-VE.c.value_minor).label("value"),
            func.sum(-raw).label("qty"),
        )
        .where(VE.c.kind == "cogs", raw < 0, VE.c.ref.is_not(None))
        .group_by(VE.c.ref, VE.c.product_id)
        .subquery()
    )


def _sales_between(
    sites: Iterable[str] | None, since: datetime | None, until: datetime | None
) -> list[Any]:
    """The conditions on sales of ``sites`` (None: all) made in ``[since, until)``."""
    where: list[Any] = []
    if sites is not None:
        where.append(S.c.site.in_(list(sites)))
    if since is not None:
        where.append(S.c.occurred_at >= since)
    if until is not None:
        where.append(S.c.occurred_at < until)
    return where


def _group_key(conn: Connection, group_by: str) -> Any:
    """The column sales are grouped by."""
    if group_by == "day":
        return (
            cast(S.c.occurred_at, Date)
            if conn.dialect.name == "postgresql"
            else func.date(S.c.occurred_at)
        )
    if group_by == "register":
        return R.c.code
    if group_by == "cashier":
        return S.c.cashier
    return SL.c.sku


def _sales_row(group_by: str, r: Any) -> dict[str, Any]:
    """One group of the sales report, with cost and margin only when every line's cost is known."""
    entry: dict[str, Any] = {
        group_by: r.key.isoformat() if isinstance(r.key, date) else str(r.key),
        "sales": r.sales,
        "qty": plain(Decimal(r.qty or 0).scaleb(-6)),
        "net_minor": int(r.net_minor or 0),
        "discount_minor": int(r.discount_minor or 0),
        "returned_qty": plain(Decimal(r.returned or 0).scaleb(-6)),
        "cost_minor": None,
        "margin_minor": None,
    }
    if r.costed and r.costed == r.lines:
        entry["cost_minor"] = round(r.cost)
        entry["margin_minor"] = entry["net_minor"] - entry["cost_minor"]
    return entry


def tax_report(
    conn: Connection, sites: Iterable[str] | None, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Tax collected per rate, net of refunds."""
    where = _sales_between(sites, since, until)
    totals: dict[str, dict[str, Any]] = {}
    for r in conn.execute(
        select(ST.c.rate, func.sum(ST.c.base_minor), func.sum(ST.c.tax_minor), func.count())
        .join(S, S.c.id == ST.c.sale_pk)
        .where(*where)
        .group_by(ST.c.rate)
    ):
        totals[plain_rate(r[0])] = {
            "rate": plain_rate(r[0]),
            "base_minor": int(r[1]),
            "tax_minor": int(r[2]),
        }
    refund_where: list[Any] = [R.c.site.in_(list(sites))] if sites is not None else []
    if since is not None:
        refund_where.append(RF.c.created_at >= since)
    if until is not None:
        refund_where.append(RF.c.created_at < until)
    for r in conn.execute(
        select(RFL.c.tax_rate, func.sum(RFL.c.amount_minor), func.sum(RFL.c.tax_minor))
        .join(RF, RF.c.id == RFL.c.refund_pk)
        .join(R, R.c.id == RF.c.register_id)
        .where(*refund_where)
        .group_by(RFL.c.tax_rate)
    ):
        entry = totals.setdefault(
            plain_rate(r[0]), {"rate": plain_rate(r[0]), "base_minor": 0, "tax_minor": 0}
        )
        entry["tax_minor"] -= int(r[2])
        entry["base_minor"] -= int(r[1]) - int(r[2])
    return sorted(totals.values(), key=lambda t: Decimal(t["rate"]))
