"""The products' read side, keyset-paginated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    func,
    or_,
    select,
)

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, decode_cursor, encode_cursor

P, C = catalog_tables.products, catalog_tables.product_codes


def _product_id(conn: Connection, sku: str | None, gtin: str | None) -> int | None:
    if sku:
        found = conn.execute(select(P.c.id).where(P.c.sku == sku)).scalar()
        if found is None:
            raise NotFound(f"sku {sku!r} is not a known product", field="sku")
        return int(found)
    if gtin:
        found = conn.execute(select(C.c.product_id).where(C.c.code == gtin)).scalar()
        if found is None:
            raise NotFound(f"gtin {gtin!r} matches no product", field="gtin")
        return int(found)
    return None


def list_products(
    conn: Connection, *, search: str | None, active: bool | None, limit: int, cursor: str | None
) -> Page:
    """Products by SKU, optionally filtered by a name or SKU fragment."""
    query = select(P).order_by(P.c.sku).limit(limit + 1)
    if search:  # a fragment, its % and _ as themselves (escaped), in any case
        fragment = search.lower()
        query = query.where(
            or_(
                func.lower(P.c.sku).contains(fragment, autoescape=True),
                func.lower(P.c.name).contains(fragment, autoescape=True),
            )
        )
    if active is not None:
        query = query.where(P.c.active == active)
    if cursor:
        (after,) = decode_cursor(cursor, str)
        query = query.where(P.c.sku > after)
    rows = conn.execute(query).all()
    page = rows[:limit]
    codes: dict[int, dict[str, list[Any]]] = {
        r.id: {"gtin": [], "alias": [], "pack": []} for r in page
    }
    for code in conn.execute(  # one query for the codes of the whole page
        select(C.c.product_id, C.c.code, C.c.kind, C.c.pack_level, C.c.pack_qty)
        .where(C.c.product_id.in_(list(codes)))
        .order_by(C.c.code)
    ):
        if code.kind == "pack":
            pack = {"level": code.pack_level, "gtin": code.code, "qty": code.pack_qty}
            codes[code.product_id]["pack"].append(pack)
        else:
            codes[code.product_id][code.kind].append(code.code)
    items = [
        {
            "sku": r.sku,
            "name": r.name,
            "unit": r.unit,
            "tracking": r.tracking,
            "negative_policy": r.negative_policy,
            "reorder_point": r.reorder_point,
            "category": r.category,
            "costing": r.costing,
            "standard_cost_minor": r.standard_cost_minor,
            "gtins": codes[r.id]["gtin"],
            "aliases": codes[r.id]["alias"],
            "packs": codes[r.id]["pack"],
            "active": r.active,
        }
        for r in page
    ]
    return Page(items, encode_cursor([rows[limit - 1].sku]) if len(rows) > limit else None)


def product_dict(product: Any) -> dict[str, Any]:
    """The API shape of a domain product."""
    return {
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "tracking": product.tracking.value,
        "negative_policy": product.negative_policy.value,
        "reorder_point": product.reorder_point,
        "category": product.category,
        "costing": product.costing,
        "standard_cost_minor": product.standard_cost_minor,
        "gtins": product.gtins,
        "aliases": product.aliases,
        "packs": [{"level": x.level, "gtin": x.gtin, "qty": x.qty} for x in product.packs],
        "active": product.active,
    }
