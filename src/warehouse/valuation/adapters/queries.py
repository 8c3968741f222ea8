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
    if group_by not in GROUPS:
        raise QueryRule(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
    keys: list[Any] = [E.c.site]
    if group_by == "category":
        keys.append(func.coalesce(P.c.category, literal("")).label("category"))
    elif group_by == "product":
        keys += [P.c.sku, P.c.name, func.coalesce(P.c.category, literal("")).label("category")]
    return keys


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
    query = select(*keys, raw_qty.label("qty"), func.sum(E.c.value_minor).label("value"))
    if group_by != "site":
        query = query.select_from(E.join(P, P.c.id == E.c.product_id))
    if sites is not None:
        query = query.where(E.c.site.in_(sorted(sites)))
    if at is not None:
        query = query.where(E.c.occurred_at <= at)
    query = query.group_by(*keys).order_by(*keys)
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
    query = select(*keys, *columns).where(E.c.occurred_at < until)
    if group_by != "site":
        query = query.select_from(E.join(P, P.c.id == E.c.product_id))
    if sites is not None:
        query = query.where(E.c.site.in_(sorted(sites)))
    query = query.group_by(*keys).order_by(*keys)
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
