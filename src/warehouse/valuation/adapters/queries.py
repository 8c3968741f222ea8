"""Valuation reports: stock value as of any moment, and the roll-forward of a period (opening,
receipts, cost of goods sold, write-offs, transfers, adjustments, closing), per site, category
or product. Both add up entries (their event time decides the period), so they agree with each
other and with the layers by construction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, case, func, literal, select, type_coerce

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import QueryRule
from warehouse.core.types import to_plain
from warehouse.valuation.adapters import tables
from warehouse.valuation.domain import EntryKind

E, P = tables.valuation_entries, catalog_tables.products
GROUPS = ("site", "category", "product")
#: The roll-forward's columns between opening and closing, by entry kind.
MOVES = {
    "receipts": EntryKind.RECEIPT,
    "cogs": EntryKind.COGS,
    "writeoffs": EntryKind.WRITEOFF,
    "transfers_in": EntryKind.TRANSFER_IN,
    "transfers_out": EntryKind.TRANSFER_OUT,
    "adjustments": EntryKind.ADJUSTMENT,
    "revaluations": EntryKind.REVALUATION,
}


def _keys(group_by: str) -> list[Any]:
    """The entries' own keys to sum by: the site, and the product unless by site alone (a
    category or a name is joined to the sums afterwards, not to every entry)."""
    if group_by not in GROUPS:
        raise QueryRule(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
    return [E.c.site] if group_by == "site" else [E.c.site, E.c.product_id]


def _grouped(sums: Any, group_by: str, columns: list[str]) -> Any:
    """``sums`` (per site, or per site and product) as the report's rows: per site as they
    are; per category or product with the product's fields joined, then summed again."""
    if group_by == "site":
        return select(sums).order_by(sums.c.site)
    category = func.coalesce(P.c.category, literal("")).label("category")
    keys: list[Any] = [sums.c.site, category]
    if group_by == "product":
        keys[1:1] = [P.c.sku, P.c.name]
    totals = [func.sum(sums.c[name]).label(name) for name in columns]
    return (
        select(*keys, *totals)
        .select_from(sums.join(P, P.c.id == sums.c.product_id))
        .group_by(*keys)
        .order_by(*keys)
    )


def _group(row: Any, group_by: str) -> dict[str, Any]:
    out: dict[str, Any] = {"site": row.site}
    if group_by == "product":
        out.update(sku=row.sku, name=row.name)
    if group_by in ("category", "product"):
        out["category"] = row.category or None
    return out


def _qty(raw: Any) -> Decimal:
    return to_plain(Decimal(raw or 0).scaleb(-6))


def valuation(
    conn: Connection, sites: Collection[str] | None, at: datetime | None, group_by: str
) -> list[dict[str, Any]]:
    """Quantity and value per site (and category, or product) as of ``at`` (None: now)."""
    keys = _keys(group_by)
    raw_qty = func.sum(type_coerce(E.c.qty, BigInteger))
    sums = select(*keys, raw_qty.label("qty"), func.sum(E.c.value_minor).label("value"))
    if sites is not None:
        sums = sums.where(E.c.site.in_(sorted(sites)))
    if at is not None:
        sums = sums.where(E.c.occurred_at <= at)
    query = _grouped(sums.group_by(*keys).subquery(), group_by, ["qty", "value"])
    return [
        {**_group(r, group_by), "qty": _qty(r.qty), "value_minor": int(r.value or 0)}
        for r in conn.execute(query)
        if r.qty or r.value
    ]


def rollforward(
    conn: Connection,
    sites: Collection[str] | None,
    since: datetime,
    until: datetime,
    group_by: str,
) -> list[dict[str, Any]]:
    """The period ``[since, until)`` per group: opening value, what each kind of entry added
    (receipts and transfers in positive, cost of goods sold, write-offs and adjustments as the
    costs they are, positive; revaluations of standard cost changes as the gains they are),
    closing value, and the purchase price variance of standard costing. opening + receipts +
    transfers_in - transfers_out - cogs - writeoffs - adjustments + revaluations = closing."""
    keys = _keys(group_by)
    inside = E.c.occurred_at >= since
    columns = [
        func.sum(case((E.c.occurred_at < since, E.c.value_minor), else_=0)).label("opening"),
        func.sum(E.c.value_minor).label("closing"),
        func.sum(case((inside, E.c.variance_minor), else_=0)).label("variance"),
        *(
            func.sum(case(((E.c.kind == kind.value) & inside, E.c.value_minor), else_=0)).label(
                name
            )
            for name, kind in MOVES.items()
        ),
    ]
    sums = select(*keys, *columns).where(E.c.occurred_at < until)
    if sites is not None:
        sums = sums.where(E.c.site.in_(sorted(sites)))
    names = [c.name for c in columns]
    query = _grouped(sums.group_by(*keys).subquery(), group_by, names)
    out = []
    for r in conn.execute(query):
        row = {**_group(r, group_by), "opening_minor": int(r.opening or 0)}
        for name in MOVES:
            value = int(getattr(r, name) or 0)
            costs = name in ("cogs", "writeoffs", "adjustments", "transfers_out")
            row[f"{name}_minor"] = -value if costs else value
        row["closing_minor"] = int(r.closing or 0)
        row["variance_minor"] = int(r.variance or 0)
        if any(v for k, v in row.items() if k.endswith("_minor")):
            out.append(row)
    return out
