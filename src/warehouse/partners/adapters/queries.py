"""Partners as the API lists them, and the supplier each product is ordered from."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, func, or_, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.paging import Page, decode_cursor, encode_cursor
from warehouse.partners.adapters import tables
from warehouse.partners.adapters.repository import item_of, partner_of
from warehouse.partners.domain import Partner, SupplierItem

T, SI = tables.partners, tables.supplier_items


def partner_dict(partner: Partner, items: list[SupplierItem] | None = None) -> dict[str, Any]:
    """The API shape of a partner (with what it supplies, when asked for)."""
    out = {k: v for k, v in asdict(partner).items() if k != "id"}
    if items is not None:
        out["items"] = item_dicts(items)
    return out


def item_dicts(items: list[SupplierItem]) -> list[dict[str, Any]]:
    """Supplier items as the API shows them (by SKU)."""
    return [{k: v for k, v in asdict(x).items() if k != "product_id"} for x in items]


def list_partners(
    conn: Connection,
    *,
    role: str | None,
    search: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Partners by code; ``role`` supplier or customer; ``search`` part of the code or name."""
    query = select(T).order_by(T.c.code).limit(limit + 1)
    if role == "supplier":
        query = query.where(T.c.supplier)
    elif role == "customer":
        query = query.where(T.c.customer)
    if search:
        fragment = search.lower()
        query = query.where(
            or_(
                func.lower(T.c.code).contains(fragment, autoescape=True),
                func.lower(T.c.name).contains(fragment, autoescape=True),
            )
        )
    if cursor:
        (after,) = decode_cursor(cursor, str)
        query = query.where(T.c.code > after)
    rows = conn.execute(query).all()
    items = [partner_dict(partner_of(r)) for r in rows[:limit]]
    return Page(items, encode_cursor([rows[limit - 1].code]) if len(rows) > limit else None)


def sources(conn: Connection, product_ids: list[int]) -> dict[int, tuple[Partner, SupplierItem]]:
    """Each product's supplier: the preferred one, else the one with the shortest lead time
    (then the lowest code); products no active supplier sells are absent."""
    if not product_ids:
        return {}
    p = catalog_tables.products
    rows = conn.execute(
        select(SI, p.c.sku)
        .join(T, T.c.id == SI.c.partner_id)
        .join(p, p.c.id == SI.c.product_id)
        .where(SI.c.product_id.in_(product_ids), T.c.active, T.c.supplier)
    ).all()
    ids = sorted({r.partner_id for r in rows})
    partners = {r.id: partner_of(r) for r in conn.execute(select(T).where(T.c.id.in_(ids)))}
    best: dict[int, tuple[Partner, SupplierItem]] = {}

    def rank(pair: tuple[Partner, SupplierItem]) -> tuple[int, int, str]:
        partner, item = pair
        lead = item.lead_time_days if item.lead_time_days is not None else partner.lead_time_days
        return (0 if item.preferred else 1, lead if lead is not None else 10**6, partner.code)

    for r in rows:
        partner, item = partners[r.partner_id], item_of(r)
        if item.product_id not in best or rank((partner, item)) < rank(best[item.product_id]):
            best[item.product_id] = (partner, item)
    return best
