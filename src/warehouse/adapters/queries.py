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
    Connection,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from warehouse.adapters import orm
from warehouse.adapters.types import Quantity, UTCDateTime
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


def _location_select() -> Select[Any]:
    parent = L.alias("parent")
    return select(
        L.c.code,
        L.c.name,
        L.c.kind,
        L.c.path,
        L.c.negative_policy,
        parent.c.code.label("parent_code"),
    ).outerjoin(parent, parent.c.id == L.c.parent_id)


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
    """Stock rows per product, location and lot (filters left out match everything).

    Physical locations come from the projection; with ``include_virtual`` the virtual ones
    (supplier, customer, loss, transit), which are not projected, are summed from the ledger."""
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
    if include_virtual:
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
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
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


def stock_for_sku(conn: Connection, sku: str) -> dict[str, Any]:
    """Totals and per-location rows of one product, physical locations only."""
    product_id = _product_id(conn, sku, None)
    rows = conn.execute(
        _stock_select()
        .where(
            S.c.product_id == product_id,
            L.c.kind.not_in([k.value for k in VIRTUAL_KINDS]),
            or_(S.c.on_hand != 0, S.c.reserved != 0),
        )
        .order_by(L.c.code, S.c.lot)
    ).all()
    product = conn.execute(
        select(P.c.name, P.c.unit, P.c.reorder_point).where(P.c.id == product_id)
    ).one()
    items = [stock_row(r._mapping) for r in rows]
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
    query = _movement_select()
    product_id = _product_id(conn, sku, None)
    if product_id is not None:
        query = query.where(M.c.product_id == product_id)
    if location:
        path = _location_path(conn, location)
        ids = select(L.c.id).where(L.c.path.startswith(path, autoescape=True))
        query = query.where(or_(M.c.from_location_id.in_(ids), M.c.to_location_id.in_(ids)))
    conditions: list[ColumnElement[bool]] = []
    if kind:
        conditions.append(M.c.kind == kind)
    if agent_id:
        conditions.append(M.c.agent_id == agent_id)
    if order_ref:
        conditions.append(M.c.order_ref == order_ref)
    if since:
        conditions.append(M.c.occurred_at >= since)
    if until:
        conditions.append(M.c.occurred_at < until)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        conditions.append(M.c.id < before)
    if conditions:
        query = query.where(and_(*conditions))
    rows = conn.execute(query.order_by(M.c.id.desc()).limit(limit + 1)).all()
    items = [movement_row(r._mapping) for r in rows[:limit]]
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


def _movement_select() -> Select[Any]:
    src, dst = L.alias("src"), L.alias("dst")
    return (
        select(M, P.c.sku, src.c.code.label("from_location"), dst.c.code.label("to_location"))
        .join(P, P.c.id == M.c.product_id)
        .join(src, src.c.id == M.c.from_location_id)
        .join(dst, dst.c.id == M.c.to_location_id)
    )


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


def agents(conn: Connection) -> list[dict[str, Any]]:
    """Every agent with its last seen time, seqs, open gaps and last health report."""
    a, g = orm.agents, orm.seq_gaps
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
    for row in conn.execute(select(a).order_by(a.c.site, a.c.agent_id)):
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
