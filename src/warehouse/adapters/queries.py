"""Read side for the API: plain SQL over the projection and the ledger, keyset-paginated."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pydantic_core
from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from warehouse.adapters import orm
from warehouse.adapters.types import Quantity, UTCDateTime, quantity
from warehouse.domain.access import site_of_path
from warehouse.domain.errors import InvalidCursor, NotFound
from warehouse.domain.model import VIRTUAL_KINDS

P, C, L, S, M = orm.products, orm.product_codes, orm.locations, orm.stock, orm.movements


def encode_cursor(values: list[Any]) -> str:
    """An opaque page cursor."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The values of a cursor made by :func:`encode_cursor`, each of the type given (ints
    within 64 bits, strings without NUL), or InvalidCursor."""
    try:
        values = pydantic_core.from_json(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
    except ValueError:  # not base64, not JSON, nested too deep
        values = None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise InvalidCursor("cursor is not one this API returned", field="cursor")
    for value, kind in zip(values, kinds, strict=True):
        fits = (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
            if kind is int
            else isinstance(value, str) and "\x00" not in value and len(value) <= 512
        )
        if not fits:
            raise InvalidCursor("cursor is not one this API returned", field="cursor")
    return values


@dataclass
class Page:
    """One page of rows and the cursor of the next, if any."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def _location_path(conn: Connection, code: str, field: str = "location") -> str:
    path = conn.execute(select(L.c.path).where(L.c.code == code)).scalar()
    if path is None:
        raise NotFound(f"{field} {code!r} is not a known location", field=field)
    return str(path)


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
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(P.c.sku).like(pattern), func.lower(P.c.name).like(pattern))
        )
    if active is not None:
        query = query.where(P.c.active == active)
    if cursor:
        (after,) = decode_cursor(cursor, str)
        query = query.where(P.c.sku > after)
    rows = conn.execute(query).all()
    page = rows[:limit]
    codes: dict[int, dict[str, list[str]]] = {r.id: {"gtin": [], "alias": []} for r in page}
    for code in conn.execute(  # one query for the codes of the whole page
        select(C.c.product_id, C.c.code, C.c.kind)
        .where(C.c.product_id.in_(list(codes)))
        .order_by(C.c.code)
    ):
        codes[code.product_id][code.kind].append(code.code)
    items = [
        {
            "sku": r.sku,
            "name": r.name,
            "unit": r.unit,
            "tracking": r.tracking,
            "negative_policy": r.negative_policy,
            "reorder_point": r.reorder_point,
            "gtins": codes[r.id]["gtin"],
            "aliases": codes[r.id]["alias"],
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
        "gtins": product.gtins,
        "aliases": product.aliases,
        "active": product.active,
    }


#: Aliases and statements built once (an alias sets up its column collection when made, which
#: per request was a sixth of a page's CPU).
_PARENT = L.alias("parent")
_LOCATION_SELECT = select(
    L.c.code,
    L.c.name,
    L.c.kind,
    L.c.path,
    L.c.negative_policy,
    _PARENT.c.code.label("parent_code"),
).outerjoin(_PARENT, _PARENT.c.id == L.c.parent_id)
_PLACE = select(
    L.c.path,
    select(_PARENT.c.id).where(_PARENT.c.parent_id == L.c.id).exists().label("children"),
)


def _location_select() -> Select[Any]:
    return _LOCATION_SELECT


def list_locations(
    conn: Connection, *, under: str | None, kind: str | None
) -> list[dict[str, Any]]:
    """Locations in tree order, optionally a subtree or one kind."""
    query = _location_select().order_by(L.c.path)
    if under:
        query = query.where(
            L.c.path.startswith(_location_path(conn, under, "under"), autoescape=True)
        )
    if kind:
        query = query.where(L.c.kind == kind)
    return [location_row(r._mapping) for r in conn.execute(query)]


def location_row(row: Any) -> dict[str, Any]:
    """The API shape of a location row."""
    return {
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "parent_code": row["parent_code"],
        "negative_policy": row["negative_policy"],
        "path": [p for p in row["path"].split("/") if p],
    }


def get_location(conn: Connection, code: str) -> dict[str, Any]:
    """One location, or NotFound."""
    row = conn.execute(_location_select().where(L.c.code == code)).first()
    if row is None:
        raise NotFound(f"location {code!r} is not known", field="code")
    return location_row(row._mapping)


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
    row = conn.execute(_PLACE.where(L.c.code == code)).first()
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
        _stock_items(rows[:limit]),
        encode_cursor([last.sku, last.location, last.lot]) if last else None,
    )


_ZERO = Decimal(0)


def _stock_items(rows: Any) -> list[dict[str, Any]]:
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
    items = _stock_items(r[:7] for r in rows)
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


def movements(
    conn: Connection,
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    agent_id: str | None = None,
    order_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Ledger rows, newest first (filters left out match everything)."""
    product_id = _product_id(conn, sku, None)
    before = decode_cursor(cursor, int)[0] if cursor else None

    def matching(t: Any) -> list[ColumnElement[bool]]:
        wanted = [
            (product_id, t.c.product_id),
            (kind, t.c.kind),
            (agent_id, t.c.agent_id),
            (order_ref, t.c.order_ref),
        ]
        out = [column == value for value, column in wanted if value is not None]
        out += [t.c.occurred_at >= since] if since else []
        out += [t.c.occurred_at < until] if until else []
        out += [t.c.id < before] if before is not None else []
        return out

    query = _movement_select()
    if location:
        path = _location_path(conn, location)
        subtree = select(L.c.id).where(L.c.path.startswith(path, autoescape=True))
        ids = list(conn.execute(subtree).scalars())
        if conn.dialect.name == "postgresql" and len(ids) * (limit + 1) <= _WALK_BUDGET:
            query = query.where(M.c.id.in_(_newest_in(ids, matching, limit + 1)))
        else:
            query = query.where(
                or_(M.c.from_location_id.in_(subtree), M.c.to_location_id.in_(subtree)),
                *matching(M),
            )
    else:
        query = query.where(*matching(M))
    rows = conn.execute(query.order_by(M.c.id.desc()).limit(limit + 1)).all()
    items = [movement_row(r._mapping) for r in rows[:limit]]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


#: Index entries a subtree's movements page may read location by location (see _newest_in);
#: past it (a site of hundreds of bins, a page of a thousand) the ledger is walked newest first,
#: which a subtree that large, where most movements happen, fills a page from quickly.
_WALK_BUDGET = 5_000
_WALKER = M.alias("walk")


def _newest_in(ids: list[int], matching: Any, n: int) -> Select[Any]:
    """The ids of the newest ``n`` matching movements out of or into any of the locations
    ``ids``: for each location and side the newest ``n`` by its (location, id) index, then the
    newest ``n`` of those. The work is bounded by the locations and the page, never by the
    ledger: a quiet bin answers as fast as a busy one, where a walk of the ledger newest first,
    filtering, reads all of it to find a bin that never moved."""
    # one array parameter, not a VALUES list: the statement is then the same for every
    # subtree, so SQLAlchemy compiles it once (a VALUES list was compiled on every request)
    subtree = (
        func.unnest(bindparam("ids", ids, type_=ARRAY(Integer)))
        .table_valued("id")
        .render_derived(name="subtree")
    )
    walker = _WALKER
    sides = []
    for side in (walker.c.from_location_id, walker.c.to_location_id):
        walk = (
            select(walker.c.id)
            .where(side == subtree.c.id, *matching(walker))
            .order_by(walker.c.id.desc())
            .limit(n)
            .lateral()
        )
        sides.append(select(walk.c.id).select_from(subtree).join(walk, true()))
    hits = union(*sides).subquery()
    return select(hits.c.id).order_by(hits.c.id.desc()).limit(n)


_SRC, _DST = L.alias("src"), L.alias("dst")
_MOVEMENT_SELECT = (
    select(M, P.c.sku, _SRC.c.code.label("from_location"), _DST.c.code.label("to_location"))
    .join(P, P.c.id == M.c.product_id)
    .join(_SRC, _SRC.c.id == M.c.from_location_id)
    .join(_DST, _DST.c.id == M.c.to_location_id)
)


def _movement_select() -> Select[Any]:
    return _MOVEMENT_SELECT


def movement(conn: Connection, movement_id: int) -> dict[str, Any]:
    """One ledger row, or NotFound."""
    row = conn.execute(_movement_select().where(M.c.id == movement_id)).first()
    if row is None:
        raise NotFound(f"movement {movement_id} does not exist", field="id")
    return movement_row(row._mapping)


def movement_row(row: Any) -> dict[str, Any]:
    """The API shape of a ledger row."""
    keys = (
        "id",
        "kind",
        "sku",
        "qty",
        "from_location",
        "to_location",
        "serial",
        "epc",
        "expiry",
        "code",
        "order_ref",
        "occurred_at",
        "recorded_at",
        "origin",
        "event_id",
        "agent_id",
        "device",
        "station",
        "actor",
    )
    out = {k: row[k] for k in keys}
    out["lot"] = row["lot"] or None
    out["flags"] = [f for f in row["flags"].split(",") if f]
    return out


def rejected_events(
    conn: Connection, *, reason: str | None, agent_id: str | None, limit: int, cursor: str | None
) -> Page:
    """Rejected events, newest first, with their payload as text where it is text."""
    t = orm.rejected_events
    query = select(t).order_by(t.c.id.desc()).limit(limit + 1)
    if reason:
        query = query.where(t.c.reason == reason)
    if agent_id:
        query = query.where(t.c.agent_id == agent_id)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(t.c.id < before)
    rows = conn.execute(query).all()
    items = []
    for r in rows[:limit]:
        item = {
            k: r._mapping[k]
            for k in (
                "id",
                "received_at",
                "reason",
                "detail",
                "topic",
                "event_id",
                "agent_id",
                "site",
                "seq",
                "payload_size",
            )
        }
        item["payload"] = r.payload.decode("utf-8", errors="replace")
        item["payload_truncated"] = len(r.payload) < r.payload_size
        original = r.original_payload
        item["original_payload"] = (
            original.decode("utf-8", errors="replace") if original is not None else None
        )
        items.append(item)
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


def agents(
    conn: Connection, sites: frozenset[str] | None = None, *, registered_only: bool = True
) -> list[dict[str, Any]]:
    """Every registered agent (``warehouse devices register``, not revoked) that has been seen,
    at ``sites`` (None: all), with its last seen time, seqs, open gaps and last health report;
    ``registered_only=False`` adds every other agent the ingest has tracked."""
    a, g, d = orm.agents, orm.seq_gaps, orm.devices
    gaps: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(select(g).where(g.c.closed_at.is_(None)).order_by(g.c.first_seq)):
        gaps.setdefault(row.agent_id, []).append(
            {
                "first_seq": row.first_seq,
                "last_seq": row.last_seq,
                "detected_at": row.detected_at,
                "resync_requested_at": row.resync_requested_at,
                "resync_count": row.resync_count,
                "unrecoverable": row.unrecoverable_at is not None,
                "unrecoverable_at": row.unrecoverable_at,
            }
        )
    out = []
    registered = select(a).order_by(a.c.site, a.c.agent_id)
    if registered_only:
        registered = registered.join(
            d, (d.c.agent_id == a.c.agent_id) & (d.c.site == a.c.site)
        ).where(d.c.revoked_at.is_(None))
    if sites is not None:
        registered = registered.where(a.c.site.in_(sorted(sites)))
    for row in conn.execute(registered):
        out.append(
            {
                "agent_id": row.agent_id,
                "site": row.site,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
                "boot": row.boot,
                "acked_seq": row.acked_seq,
                "max_seq": row.max_seq,
                "state": row.state,
                "state_at": row.state_at,
                "gaps": gaps.get(row.agent_id, []),
                "missing": sum(
                    x["last_seq"] - x["first_seq"] + 1 for x in gaps.get(row.agent_id, [])
                ),
                "health": json.loads(row.health) if row.health else None,
                "heartbeat_at": row.heartbeat_at,
            }
        )
    return out


def location_sites(conn: Connection, codes: list[str]) -> dict[str, str | None]:
    """The site of each known location code (``None`` for virtual locations, which belong to
    no site)."""
    rows = conn.execute(
        select(L.c.code, L.c.path, L.c.kind).where(L.c.code.in_(sorted(set(codes))))
    ).all()
    return {r.code: None if r.kind in VIRTUAL_KINDS else site_of_path(r.path) for r in rows}


def audit(
    conn: Connection,
    *,
    sites: frozenset[str] | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Audit entries, newest first; with ``sites``, only those of these sites."""
    t = orm.audit_log
    query = select(t).order_by(t.c.id.desc()).limit(limit + 1)
    if sites is not None:
        query = query.where(t.c.site.in_(sorted(sites)))
    for column, value in ((t.c.actor, actor), (t.c.action, action), (t.c.target, target)):
        if value:
            query = query.where(column == value)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(t.c.id < before)
    rows = conn.execute(query).all()
    items = [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "site": r.site,
            "before": json.loads(r.before) if r.before else None,
            "after": json.loads(r.after) if r.after else None,
        }
        for r in rows[:limit]
    ]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)
