"""What a GS1 Digital Link key names in this database: a product (or one of its packs) by GTIN,
a lot of it, one serialized unit, a location by GLN and extension, a package by SSCC; with the
stock the principal may see and the links to it. Site checks are the caller's (the answer
says which site a unit, location or package is at)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import Connection, func, select

from warehouse.access.domain import site_of_path
from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.core.types import to_plain
from warehouse.interop.domain import Key, Kind, Link, Resolved
from warehouse.orders.adapters import queries as order_queries
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS

P, C = catalog_tables.products, catalog_tables.product_codes
L, S = stock_tables.locations, stock_tables.stock
U, LOTS = stock_tables.serial_units, stock_tables.lots


def resolve(
    conn: Connection, key: Key, sites: Collection[str] | None
) -> tuple[Resolved, str | None]:
    """What ``key`` names, with the stock at ``sites`` (None: every site), and the site the
    thing is at (a unit, a location, a package; None for products and lots); NotFound
    otherwise."""
    if key.kind is Kind.LOCATION:
        return _location(conn, key)
    if key.kind is Kind.PACKAGE:
        package = order_queries.package(conn, key.primary[1])
        here = f"/api/v1/packages/{key.primary[1]}"
        links = [
            Link("logisticsInfo", here, "The package"),
            Link("logisticsInfo", f"{here}/label", "Its label", "text/plain"),
        ]
        return Resolved(key, package, links), package["site"]
    product = _product(conn, key.primary[1])
    sku, product_id = product["sku"], product.pop("id")
    if key.kind is Kind.SERIAL:
        unit = _unit(conn, product_id, sku, key.qualifier[1] if key.qualifier else "")
        where = "/api/v1/units?" + urlencode({"sku": sku, "serial": unit["serial"]})
        links = [
            Link("pip", f"/products/{quote(sku)}", "The product's stock", "text/html"),
            Link("traceability", where, "Where the unit is"),
            Link("masterData", f"/api/v1/products/{quote(sku)}", "The product"),
        ]
        return Resolved(key, {**product, "serial_unit": unit}, links), unit["site"]
    lot = key.qualifier[1] if key.qualifier else None
    product["stock"] = _stock(conn, product_id, lot, sites)
    if lot is not None:
        product["lot"] = _lot(conn, product_id, sku, lot)
        page = "/stock?" + urlencode({"q": sku, "lot": lot})
        links = [Link("pip", page, "The lot's stock", "text/html")]
    else:
        links = [Link("pip", f"/products/{quote(sku)}", "The product's stock", "text/html")]
    links += [
        Link("masterData", f"/api/v1/products/{quote(sku)}", "The product"),
        Link("traceability", "/api/v1/movements?" + urlencode({"sku": sku}), "Its movements"),
    ]
    return Resolved(key, product, links), None


def _product(conn: Connection, gtin: str) -> dict[str, Any]:
    row = conn.execute(
        select(
            P.c.id,
            P.c.sku,
            P.c.name,
            P.c.unit,
            P.c.category,
            C.c.kind,
            C.c.pack_level,
            C.c.pack_qty,
        )
        .join(C, C.c.product_id == P.c.id)
        .where(C.c.code == gtin, C.c.kind.in_(("gtin", "pack")))
    ).first()
    if row is None:
        raise NotFound(f"no product has GTIN {gtin}", field="gtin")
    pack = {"level": row.pack_level, "qty": to_plain(row.pack_qty)} if row.kind == "pack" else None
    return {
        "id": row.id,
        "sku": row.sku,
        "name": row.name,
        "unit": row.unit,
        "category": row.category,
        "gtin": gtin,
        "pack": pack,
    }


def _stock(
    conn: Connection, product_id: int, lot: str | None, sites: Collection[str] | None
) -> list[dict[str, Any]]:
    """On hand and reserved per location (for a lot) or per site (for a product)."""
    query = (
        select(
            L.c.code,
            L.c.path,
            func.sum(S.c.on_hand).label("on_hand"),
            func.sum(S.c.reserved).label("reserved"),
        )
        .join(L, L.c.id == S.c.location_id)
        .where(S.c.product_id == product_id, L.c.kind.not_in(VIRTUAL_KINDS))
        .group_by(L.c.code, L.c.path)
        .order_by(L.c.path)
    )
    if lot is not None:
        query = query.where(S.c.lot == lot)
    totals: dict[str, dict[str, Any]] = {}
    for r in conn.execute(query):
        site = site_of_path(r.path)
        if (sites is not None and site not in sites) or not (r.on_hand or r.reserved):
            continue
        where = str(r.code if lot is not None else site)
        row = totals.setdefault(where, {"site": site, "on_hand": 0, "reserved": 0})
        if lot is not None:
            row["location"] = r.code
        row["on_hand"] += r.on_hand
        row["reserved"] += r.reserved
    return [
        {**r, "on_hand": to_plain(r["on_hand"]), "reserved": to_plain(r["reserved"])}
        for r in totals.values()
    ]


def _lot(conn: Connection, product_id: int, sku: str, lot: str) -> dict[str, Any]:
    row = conn.execute(
        select(LOTS.c.expiry, LOTS.c.first_seen_at).where(
            LOTS.c.product_id == product_id, LOTS.c.lot == lot
        )
    ).first()
    if row is None:
        raise NotFound(f"{sku} has no lot {lot!r}", field="lot")
    return {"lot": lot, "expiry": row.expiry, "first_seen_at": row.first_seen_at}


def _unit(conn: Connection, product_id: int, sku: str, serial: str) -> dict[str, Any]:
    row = conn.execute(
        select(U.c.serial, U.c.epc, U.c.lot, U.c.updated_at, L.c.code, L.c.path, L.c.kind)
        .join(L, L.c.id == U.c.location_id)
        .where(U.c.product_id == product_id, U.c.serial == serial)
    ).first()
    if row is None:
        raise NotFound(f"{sku} has no unit with serial {serial!r}", field="serial")
    virtual = row.kind in VIRTUAL_KINDS
    return {
        "serial": row.serial,
        "epc": row.epc,
        "lot": row.lot or None,
        "location": row.code,
        "site": None if virtual else site_of_path(row.path),
        "updated_at": row.updated_at,
    }


def _location(conn: Connection, key: Key) -> tuple[Resolved, str | None]:
    gln, extension = key.primary[1], key.qualifier[1] if key.qualifier else ""
    row = conn.execute(
        select(L.c.code, L.c.name, L.c.kind, L.c.path).where(
            L.c.gln == gln, L.c.gln_extension == extension
        )
    ).first()
    if row is None:
        named = f"{gln} with extension {extension!r}" if extension else gln
        raise NotFound(f"no location has GLN {named}", field="gln")
    site = site_of_path(row.path)
    item = {
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "site": site,
        "path": row.path.strip("/").split("/"),
        "gln": gln,
        "gln_extension": extension or None,
    }
    query = urlencode({"location": row.code})
    links = [
        Link("locationInfo", f"/stock?{query}", "Stock here", "text/html"),
        Link("masterData", f"/api/v1/locations/{quote(row.code)}", "The location"),
        Link("locationInfo", f"/api/v1/stock?{query}", "Stock here"),
    ]
    return Resolved(key, item, links), site
