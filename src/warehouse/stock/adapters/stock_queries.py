"""Stock levels from the projection: per product, location and lot, for a location and
everything under it, keyset-paginated; and one product's totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    union_all,
)

from warehouse.access.domain import site_of_path
from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.catalog.adapters.queries import _product_id
from warehouse.core.errors import NotFound
from warehouse.core.paging import Page, decode_cursor, encode_cursor
from warehouse.core.types import Quantity, UTCDateTime, quantity
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.location_queries import _PLACE, _location_path
from warehouse.stock.domain.model import VIRTUAL_KINDS

P, L, S, M = (
    catalog_tables.products,
    stock_tables.locations,
    stock_tables.stock,
    stock_tables.movements,
)


def _stock_select() -> Select[Any]:
    return (
        select(
            P.c.sku,
            P.c.name,
            P.c.unit,
            L.c.code.label("location"),
            L.c.kind.label("location_kind"),
            S.c.lot,
            S.c.on_hand,
            S.c.reserved,
            type_coerce(S.c.on_hand - S.c.reserved, Quantity).label("available"),
            S.c.version,
            S.c.updated_at,
        )
        .join(P, P.c.id == S.c.product_id)
        .join(L, L.c.id == S.c.location_id)
    )


#: The default listing: the rows with something on hand or reserved (the partial indexes' rule).
_HAS_STOCK = "(on_hand <> 0 OR reserved <> 0)"


_STOCK_SQL: dict[tuple[bool, ...], Any] = {}


def _stock_sql(shape: tuple[bool, bool, bool, bool, bool, bool, bool]) -> Any:
    """The listing statement for one combination of filters, built once (constant text, so
    the driver prepares it and the database keeps its plan)."""
    if shape not in _STOCK_SQL:
        by_sku, by_product, leaf, subtree, by_lot, zero, after = shape
        where = [] if zero else [_HAS_STOCK]
        where += ["sku = :sku"] if by_sku else []
        where += ["product_id = :product_id"] if by_product else []
        where += ["location_path = :path"] if leaf else []
        where += ["location_path >= :low AND location_path < :high"] if subtree else []
        where += ["lot = :lot"] if by_lot else []
        where += ["(sku, location_code, lot) > (:after_sku, :after_location, :after_lot)"] * after
        statement = text(
            "SELECT sku, location_code AS location, lot, on_hand, reserved, version, updated_at "
            "FROM stock "
            + ("WHERE " + " AND ".join(where) + " " if where else "")
            + "ORDER BY sku, location_code, lot LIMIT :limit"
        ).columns(updated_at=UTCDateTime)
        _STOCK_SQL[shape] = statement
    return _STOCK_SQL[shape]


def _place(conn: Connection, code: str) -> tuple[str, bool]:
    """A location's path, and whether it is a leaf (no children), or NotFound."""
    row = conn.execute(_PLACE, {"code": code}).first()
    if row is None:
        raise NotFound(f"location {code!r} is not a known location", field="location")
    return str(row.path), not row.children


def stock(
    conn: Connection,
    *,
    sku: str | None = None,
    gtin: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    include_zero: bool = False,
    include_virtual: bool = False,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Stock rows per product, location and lot, ordered by SKU, location code and lot
    (filters left out match everything).

    Physical locations come from the projection alone, by its listing indexes (migration
    0005); with ``include_virtual`` the virtual ones (supplier, customer, loss, transit), which
    are not projected, are summed from the ledger."""
    if include_virtual:
        return _stock_with_virtual(
            conn, sku, gtin, location, lot, include_zero=include_zero, limit=limit, cursor=cursor
        )
    params: dict[str, Any] = {"limit": limit + 1, "sku": sku, "lot": lot}
    product_id = _product_id(conn, None, gtin) if gtin and not sku else None
    params["product_id"] = product_id
    leaf = subtree = False
    if location:
        path, leaf = _place(conn, location)
        subtree = not leaf
        params |= {"path": path, "low": path, "high": path[:-1] + chr(ord(path[-1]) + 1)}
    if cursor:
        after = decode_cursor(cursor, str, str, str)
        params |= {"after_sku": after[0], "after_location": after[1], "after_lot": after[2]}
    shape = (
        bool(sku),
        product_id is not None,
        leaf,
        subtree,
        lot is not None,
        include_zero,
        bool(cursor),
    )
    rows = conn.execute(_stock_sql(shape), params).all()
    if not rows and sku and not cursor:
        _product_id(conn, sku, None)  # no stock, or no such product: a 404 says which
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(
        stock_items(rows[:limit]),
        encode_cursor([last.sku, last.location, last.lot]) if last else None,
    )


_ZERO = Decimal(0)


def stock_items(rows: Any) -> list[dict[str, Any]]:
    """API rows from (sku, location, lot, on_hand, reserved, version, updated_at) tuples; the
    hot loop of a stock page, hence tuples unpacked rather than attributes looked up."""
    items = []
    for sku, location, lot, on_hand, reserved, version, updated_at in rows:
        held = quantity(on_hand)
        items.append(
            {
                "sku": sku,
                "location": location,
                "lot": lot or None,
                "on_hand": held,
                "reserved": quantity(reserved) if reserved else _ZERO,
                "available": quantity(on_hand - reserved) if reserved else held,
                "version": version,
                "updated_at": updated_at,
            }
        )
    return items


def _stock_with_virtual(
    conn: Connection,
    sku: str | None,
    gtin: str | None,
    location: str | None,
    lot: str | None,
    *,
    include_zero: bool,
    limit: int,
    cursor: str | None,
) -> Page:
    """The listing with virtual locations' balances summed from the ledger beside it."""
    product_id = _product_id(conn, sku, gtin)
    path = _location_path(conn, location) if location else None
    query = _stock_select().where(L.c.kind.not_in([k.value for k in VIRTUAL_KINDS]))
    if product_id is not None:
        query = query.where(S.c.product_id == product_id)
    if path:
        query = query.where(L.c.path.startswith(path, autoescape=True))
    if lot is not None:
        query = query.where(S.c.lot == lot)
    if not include_zero:
        query = query.where(or_(S.c.on_hand != 0, S.c.reserved != 0))
    virtual = _virtual_stock_select(product_id, path, lot, include_zero)
    query = select(union_all(query, virtual).subquery())
    rows_of = query.selected_columns
    if cursor:
        after = decode_cursor(cursor, str, str, str)
        query = query.where(
            tuple_(rows_of.sku, rows_of.location, rows_of.lot) > tuple_(*map(literal, after))
        )
    ordered = query.order_by(rows_of.sku, rows_of.location, rows_of.lot).limit(limit + 1)
    rows = conn.execute(ordered).all()
    items = [stock_row(r._mapping) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items, encode_cursor([last.sku, last.location, last.lot]) if last else None)


def _virtual_stock_select(
    product_id: int | None, path: str | None, lot: str | None, include_zero: bool
) -> Select[Any]:
    """Virtual locations' balances from the ledger, in the projection's columns."""
    legs_from = select(
        M.c.product_id,
        M.c.from_location_id.label("location_id"),
        M.c.lot,
        (-M.c.qty).label("qty"),
        M.c.recorded_at,
    )
    legs_to = select(
        M.c.product_id,
        M.c.to_location_id.label("location_id"),
        M.c.lot,
        M.c.qty.label("qty"),
        M.c.recorded_at,
    )
    if product_id is not None:
        legs_from = legs_from.where(M.c.product_id == product_id)
        legs_to = legs_to.where(M.c.product_id == product_id)
    if lot is not None:
        legs_from = legs_from.where(M.c.lot == lot)
        legs_to = legs_to.where(M.c.lot == lot)
    legs = union_all(legs_from, legs_to).subquery()
    total = type_coerce(func.sum(legs.c.qty), Quantity)
    query = (
        select(
            P.c.sku,
            P.c.name,
            P.c.unit,
            L.c.code.label("location"),
            L.c.kind.label("location_kind"),
            legs.c.lot,
            total.label("on_hand"),
            type_coerce(literal(0), Quantity).label("reserved"),
            total.label("available"),
            literal(0).label("version"),
            type_coerce(func.max(legs.c.recorded_at), UTCDateTime).label("updated_at"),
        )
        .join(P, P.c.id == legs.c.product_id)
        .join(L, L.c.id == legs.c.location_id)
        .where(L.c.kind.in_([k.value for k in VIRTUAL_KINDS]))
        .group_by(P.c.sku, P.c.name, P.c.unit, L.c.code, L.c.kind, legs.c.lot)
    )
    if path:
        query = query.where(L.c.path.startswith(path, autoescape=True))
    if not include_zero:
        query = query.having(func.sum(legs.c.qty) != 0)
    return query


def stock_row(row: Any) -> dict[str, Any]:
    """The API shape of a projection row."""
    return {
        "sku": row["sku"],
        "location": row["location"],
        "lot": row["lot"] or None,
        "on_hand": row["on_hand"],
        "reserved": row["reserved"],
        "available": row["available"],
        "version": row["version"],
        "updated_at": row["updated_at"],
    }


_SKU_SQL = text(
    "SELECT sku, location_code AS location, lot, on_hand, reserved, version, updated_at, "
    "location_path FROM stock WHERE sku = :sku AND (on_hand <> 0 OR reserved <> 0) "
    "ORDER BY location_code, lot"
).columns(updated_at=UTCDateTime)


def stock_for_sku(
    conn: Connection, sku: str, sites: frozenset[str] | None = None
) -> dict[str, Any]:
    """Totals and per-location rows of one product, physical locations only; with ``sites``,
    only the locations of those sites (and totals over them)."""
    product = conn.execute(
        select(P.c.name, P.c.unit, P.c.reorder_point).where(P.c.sku == sku)
    ).first()
    if product is None:
        raise NotFound(f"sku {sku!r} is not a known product", field="sku")
    rows = conn.execute(_SKU_SQL, {"sku": sku}).all()
    if sites is not None:
        rows = [r for r in rows if site_of_path(r.location_path) in sites]
    items = stock_items(r[:7] for r in rows)
    total = {
        name: sum((i[name] for i in items), Decimal(0))
        for name in ("on_hand", "reserved", "available")
    }
    below = product.reorder_point is not None and total["available"] < product.reorder_point
    return {
        "sku": sku,
        "name": product.name,
        "unit": product.unit,
        **total,
        "reorder_point": product.reorder_point,
        "below_reorder_point": below,
        "locations": items,
    }
