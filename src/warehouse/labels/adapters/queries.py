"""The locations a shelf-label run prints: one, or every physical one under it."""

from __future__ import annotations

from sqlalchemy import Connection, select

from warehouse.core.errors import NotFound, QueryRule
from warehouse.labels.domain import Label, location_label
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS

L = stock_tables.locations
#: At most this many labels in one run (a whole site's bins fit; a request for more is refused).
MAX_LABELS = 2000


def location_labels(conn: Connection, code: str, *, subtree: bool) -> list[Label]:
    """The label of location ``code``, or of it and every physical location below it, in the
    order of the tree."""
    row = conn.execute(select(L.c.path, L.c.kind).where(L.c.code == code)).first()
    if row is None:
        raise NotFound(f"location {code!r} does not exist", field="code")
    if row.kind in VIRTUAL_KINDS:
        raise NotFound(f"{code} is a virtual location: it has no shelf", field="code")
    query = select(L.c.code, L.c.name, L.c.path).where(L.c.code == code)
    if subtree:
        query = select(L.c.code, L.c.name, L.c.path).where(L.c.path.startswith(row.path))
    rows = conn.execute(query.order_by(L.c.path).limit(MAX_LABELS + 1)).all()
    if len(rows) > MAX_LABELS:
        raise QueryRule(
            f"{code} has more than {MAX_LABELS} locations: print a part of it", field="code"
        )
    return [location_label(r.code, r.name, r.path.strip("/").split("/", 1)[0]) for r in rows]
