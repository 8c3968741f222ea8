"""Valuation reports: stock value as of any moment, and the roll-forward of a period (opening,
receipts, cost of goods sold, write-offs, transfers, adjustments, closing), per site, category
or product. Both add up entries (their event time decides the period), so they agree with each
other and with the layers by construction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import QueryRule
from warehouse.core.types import to_plain
from warehouse.valuation.adapters import tables
from warehouse.valuation.domain import EntryKind

E, P = tables.valuation_entries, catalog_tables.products
GROUPS = ("site", "category", "product")
#: The roll-forward's columns that are costs: shown positive, though they lower the value.
COSTS = frozenset({"cogs", "writeoffs", "adjustments", "transfers_out"})
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


def _report(columns: list[Any], where: list[Any], group_by: str) -> Select[Any]:
    """The entries matching ``where`` summed into ``columns`` per site, per site and category,
    or per site and product. Per product, the entries are summed by product id first and the
    SKU, name and category joined to the sums (not to every entry)."""
    if group_by not in GROUPS:
        raise QueryRule(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
    category = func.coalesce(P.c.category, literal("")).label("category")
    if group_by == "site":
        return select(E.c.site, *columns).where(*where).group_by(E.c.site).order_by(E.c.site)
    if group_by == "category":
        keys = [E.c.site, category]
        query = select(*keys, *columns).select_from(E.join(P, P.c.id == E.c.product_id))
        return query.where(*where).group_by(*keys).order_by(*keys)
    sums = (
        select(E.c.site, E.c.product_id, *columns)
        .where(*where)
        .group_by(E.c.site, E.c.product_id)
        .subquery()
    )
    return (
        select(sums.c.site, P.c.sku, P.c.name, category, *(sums.c[c.name] for c in columns))
        .select_from(sums.join(P, P.c.id == sums.c.product_id))
        .order_by(sums.c.site, P.c.sku)
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
    raw_qty = func.sum(type_coerce(E.c.qty, BigInteger))
    where: list[ColumnElement[bool]] = []
    if sites is not None:
        where.append(E.c.site.in_(sorted(sites)))
    if at is not None:
        where.append(E.c.occurred_at <= at)
    columns = [raw_qty.label("qty"), func.sum(E.c.value_minor).label("value")]
    query = _report(columns, where, group_by)
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
    inside = E.c.occurred_at >= since

    def total(value: Any) -> Any:  # an integer, not a numeric: 50,000 rows of 10 convert fast
        return cast(func.coalesce(func.sum(value), 0), BigInteger)

    columns = [
        total(case((E.c.occurred_at < since, E.c.value_minor), else_=0)).label("opening"),
        *(
            total(case(((E.c.kind == kind.value) & inside, E.c.value_minor), else_=0)).label(name)
            for name, kind in MOVES.items()
        ),
        total(E.c.value_minor).label("closing"),
        total(case((inside, E.c.variance_minor), else_=0)).label("variance"),
    ]
    where: list[ColumnElement[bool]] = [E.c.occurred_at < until]
    if sites is not None:
        where.append(E.c.site.in_(sorted(sites)))
    names = [f"{c.name}_minor" for c in columns]
    signs = [-1 if name in COSTS else 1 for name in ("opening", *MOVES, "closing", "variance")]
    width = len(columns)
    out = []
    for r in conn.execute(_report(columns, where, group_by)):
        figures = r[-width:]
        if any(figures):
            values = [v * sign for v, sign in zip(figures, signs, strict=True)]
            out.append({**_group(r, group_by), **dict(zip(names, values, strict=True))})
    return out
