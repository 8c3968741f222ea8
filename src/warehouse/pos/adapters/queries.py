"""Read models of the point of sale: receipts, price lists, the price book, and the site of a
sale, register or session (the listings of registers, sessions and sales: ``listings.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from warehouse.core.errors import NotFound
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.adapters.prices import price_book
from warehouse.pos.adapters.receipts import receipt

__all__ = [
    "price_book",
    "price_lists",
    "receipt",
    "register_site",
    "sale_site",
    "session_site",
]

PL, PR = pos_tables.price_lists, pos_tables.prices
S, R = pos_tables.pos_sales, pos_tables.registers


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
        .join(pos_tables.register_sessions, pos_tables.register_sessions.c.register_id == R.c.id)
        .where(pos_tables.register_sessions.c.id == session_id)
    ).scalar()
    if site is None:
        raise NotFound(f"session {session_id} does not exist", field="session_id")
    return str(site)


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
