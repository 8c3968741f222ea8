"""The stock page's one search box: a SKU, a GTIN, a scanned GS1 code or Digital Link, or words
of a product's name, resolved in that order; then the projection's rows, as the API lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters import stock_queries
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.location_queries import _location_path

#: Rows a name search shows at most (it has no cursor: refine the words instead).
NAME_ROWS = 100


@dataclass
class Found:
    """What a search matched and the rows it shows."""

    rows: list[dict[str, Any]]
    next_cursor: str | None = None
    note: str | None = None  # said to the user: what the code was read as, or why nothing
    names: dict[str, str] = field(default_factory=dict)
    #: The change feed's last position read before the rows: the live stream resumes after it,
    #: so a change committed between this read and the stream's start is not missed.
    position: int = 0


def search(
    conn: Connection,
    q: str,
    *,
    location: str | None,
    lot: str | None,
    parse: Callable[[str], Any],
    limit: int = 50,
    cursor: str | None = None,
) -> Found:
    """The rows ``q`` finds (every row when it is empty), filtered by location subtree and lot."""
    q = q.strip()
    position = stock_feed.bounds(conn)[1]

    def page(sku: str | None = None, gtin: str | None = None, lot: str | None = lot) -> Any:
        return stock_queries.stock(
            conn, sku=sku, gtin=gtin, location=location, lot=lot, limit=limit, cursor=cursor
        )

    try:
        if not q:
            found = _page(page())
        elif _sku_exists(conn, q):
            found = _page(page(sku=q))
        else:
            found = _by_code(q, lot, parse, page) or _by_name(conn, q, location, lot)
    except NotFound as exc:
        found = Found([], note=exc.message)
    found.names = names(conn, {r["sku"] for r in found.rows})
    found.position = position
    return found


def _page(result: Any, note: str | None = None) -> Found:
    return Found(result.items, result.next_cursor, note)


def _sku_exists(conn: Connection, sku: str) -> bool:
    p = catalog_tables.products
    return conn.execute(select(p.c.id).where(p.c.sku == sku)).first() is not None


def _by_code(
    q: str, lot: str | None, parse: Callable[[str], Any], page: Callable[..., Any]
) -> Found | None:
    """A GTIN, a GS1 element string or a Digital Link URI; None if ``q`` is none of them."""
    parsed = parse(q) if len(q) <= 512 else None
    if parsed is None and q.isdigit() and 8 <= len(q) <= 14:
        return _page(page(gtin=q.zfill(14)))
    if parsed is None:
        return None
    if getattr(parsed, "gtin", None) is None:
        return Found([], note="that code names a package (SSCC), not a product")
    wanted_lot = lot or getattr(parsed, "lot", None)
    read = f"read as GTIN {parsed.gtin}" + (f", lot {wanted_lot}" if wanted_lot else "")
    return _page(page(gtin=parsed.gtin, lot=wanted_lot), read)


def _by_name(conn: Connection, q: str, location: str | None, lot: str | None) -> Found:
    """Rows of products whose name holds every word of ``q`` (or whose SKU starts with it):
    the products first (one pass over the catalog), then their rows by the stock's index."""
    p, s = catalog_tables.products, stock_tables.stock
    words = q.split()[:8]
    # ILIKE on PostgreSQL: lower() on every name made the scan 30 times slower (bench/web.py)
    by_name = and_(*(p.c.name.ilike(f"%{_escaped(w)}%", escape="/") for w in words))
    matching = (
        select(p.c.id)
        .where(or_(by_name, p.c.sku.startswith(q, autoescape=True)))
        .order_by(p.c.sku)
        .limit(NAME_ROWS + 1)
    )
    ids = list(conn.execute(matching).scalars())
    if not ids:
        return Found([])
    query = (
        select(s.c.sku, s.c.location_code, s.c.lot, s.c.on_hand, s.c.reserved, s.c.version)
        .add_columns(s.c.updated_at)
        .where(s.c.product_id.in_(ids), or_(s.c.on_hand != 0, s.c.reserved != 0))
        .order_by(s.c.sku, s.c.location_code, s.c.lot)
        .limit(NAME_ROWS + 1)
    )
    if lot is not None:
        query = query.where(s.c.lot == lot)
    if location:
        query = query.where(s.c.location_path.startswith(_location_path(conn, location)))
    rows = conn.execute(query).all()
    many = len(rows) > NAME_ROWS or len(ids) > NAME_ROWS
    note = f"the first {NAME_ROWS} rows; add words to narrow" if many else None
    return Found(stock_queries.stock_items(rows[:NAME_ROWS]), None, note)


def _escaped(word: str) -> str:
    """``word`` with LIKE's wildcards taken literally (``/`` is the escape character)."""
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_")


def names(conn: Connection, skus: Iterable[str]) -> dict[str, str]:
    """Product names by SKU."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    p = catalog_tables.products
    rows = conn.execute(select(p.c.sku, p.c.name).where(p.c.sku.in_(wanted)))
    return {row.sku: row.name for row in rows}
