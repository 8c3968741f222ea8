"""Read models of the point of sale: receipts, registers, price lists, sales reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, cast, func, select, type_coerce

from warehouse.adapters import orm
from warehouse.adapters.repositories.pos import plain_rate, price_book, receipt
from warehouse.domain.errors import NotFound, RuleViolation
from warehouse.pricing import plain

S, SL, ST, T, R = (
    orm.pos_sales,
    orm.pos_sale_lines,
    orm.pos_sale_taxes,
    orm.pos_tenders,
    orm.registers,
)
P, PL, PR, RF, RFL = (
    orm.products,
    orm.price_lists,
    orm.prices,
    orm.pos_refunds,
    orm.pos_refund_lines,
)


__all__ = ["price_book", "price_lists", "receipt", "registers", "sales_report", "tax_report"]


def sale_site(conn: Connection, sale_id: str) -> str:
    site = conn.execute(select(S.c.site).where(S.c.sale_id == sale_id)).scalar()
    if site is None:
        raise NotFound(f"sale {sale_id!r} does not exist", field="sale_id")
    return str(site)


def register_site(conn: Connection, code: str) -> str:
    site = conn.execute(select(R.c.site).where(R.c.code == code)).scalar()
    if site is None:
        raise NotFound(f"register {code!r} does not exist", field="register")
    return str(site)


def session_site(conn: Connection, session_id: int) -> str:
    site = conn.execute(
        select(R.c.site)
        .join(orm.register_sessions, orm.register_sessions.c.register_id == R.c.id)
        .where(orm.register_sessions.c.id == session_id)
    ).scalar()
    if site is None:
        raise NotFound(f"session {session_id} does not exist", field="session_id")
    return str(site)


def registers(conn: Connection, sites: Iterable[str] | None) -> list[dict[str, Any]]:
    query = select(R.c.code, R.c.site, R.c.next_receipt).order_by(R.c.code)
    if sites is not None:
        query = query.where(R.c.site.in_(list(sites)))
    return [
        {"code": r.code, "site": r.site, "next_receipt_no": r.next_receipt}
        for r in conn.execute(query)
    ]


def price_lists(conn: Connection, sites: Iterable[str] | None) -> list[dict[str, Any]]:
    query = (
        select(PL, func.count(PR.c.product_id).label("prices"))
        .outerjoin(PR, PR.c.price_list_id == PL.c.id)
        .group_by(PL.c.id)
        .order_by(PL.c.site, PL.c.priority.desc(), PL.c.name)
    )
    if sites is not None:
        query = query.where(PL.c.site.in_(list(sites)))
    return [
        {
            "site": r.site,
            "name": r.name,
            "currency": r.currency,
            "tax_inclusive": r.tax_inclusive,
            "cash_step_minor": r.cash_step_minor,
            "priority": r.priority,
            "valid_from": r.valid_from.isoformat() if r.valid_from else None,
            "valid_to": r.valid_to.isoformat() if r.valid_to else None,
            "prices": r.prices,
        }
        for r in conn.execute(query)
    ]


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
        raise RuleViolation(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
    where: list[Any] = []
    if sites is not None:
        where.append(S.c.site.in_(list(sites)))
    if since is not None:
        where.append(S.c.occurred_at >= since)
    if until is not None:
        where.append(S.c.occurred_at < until)
    key: Any
    if group_by == "day":
        key = (
            cast(S.c.occurred_at, Date)
            if conn.dialect.name == "postgresql"
            else func.date(S.c.occurred_at)
        )
    elif group_by == "register":
        key = R.c.code
    elif group_by == "cashier":
        key = S.c.cashier
    else:
        key = SL.c.sku
    raw_qty = type_coerce(SL.c.qty, BigInteger)  # stored in millionths
    cost = func.sum(SL.c.unit_cost_minor * raw_qty)
    query = (
        select(
            key.label("key"),
            func.count(func.distinct(S.c.id)).label("sales"),
            func.sum(raw_qty).label("qty"),
            func.sum(SL.c.total_minor).label("net_minor"),
            func.sum(SL.c.discount_minor + SL.c.promotion_minor).label("discount_minor"),
            cost.label("cost"),
            func.count(SL.c.unit_cost_minor).label("costed"),
            func.count(SL.c.id).label("lines"),
            func.sum(type_coerce(SL.c.returned, BigInteger)).label("returned"),
        )
        .select_from(S.join(SL, SL.c.sale_pk == S.c.id).join(R, R.c.id == S.c.register_id))
        .where(*where)
        .group_by(key)
    )
    if limit is not None:  # top sellers: by quantity
        query = query.order_by(func.sum(raw_qty).desc(), key).limit(limit)
    else:
        query = query.order_by(key)
    out = []
    for r in conn.execute(query):
        qty = Decimal(r.qty or 0).scaleb(-6)
        entry: dict[str, Any] = {
            group_by: r.key.isoformat() if isinstance(r.key, date) else str(r.key),
            "sales": r.sales,
            "qty": plain(qty),
            "net_minor": int(r.net_minor or 0),
            "discount_minor": int(r.discount_minor or 0),
            "returned_qty": plain(Decimal(r.returned or 0).scaleb(-6)),
            "cost_minor": None,
            "margin_minor": None,
        }
        if r.costed and r.costed == r.lines:
            entry["cost_minor"] = int(Decimal(r.cost).scaleb(-6).to_integral_value())
            entry["margin_minor"] = entry["net_minor"] - entry["cost_minor"]
        out.append(entry)
    return out


def tax_report(
    conn: Connection, sites: Iterable[str] | None, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Tax collected per rate, net of refunds."""
    where: list[Any] = []
    if sites is not None:
        where.append(S.c.site.in_(list(sites)))
    if since is not None:
        where.append(S.c.occurred_at >= since)
    if until is not None:
        where.append(S.c.occurred_at < until)
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


def price_book_targets(conn: Connection) -> dict[str, list[str]]:
    """Sites with registers -> the agents registered there (who get ``price_book`` commands)."""
    sites = [s for (s,) in conn.execute(select(R.c.site).distinct().order_by(R.c.site))]
    if not sites:
        return {}
    out: dict[str, list[str]] = {site: [] for site in sites}
    a = orm.agents
    for agent_id, site in conn.execute(
        select(a.c.agent_id, a.c.site).where(a.c.site.in_(sites)).order_by(a.c.agent_id)
    ):
        out[site].append(agent_id)
    return out
