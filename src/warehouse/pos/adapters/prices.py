"""Price lists, tax rates, promotions and the price book they make, in SQL."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from warehouse import pricing
from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.service.ports import (
    BookSource,
)

PL, PR, TR, PM, P, PC = (
    pos_tables.price_lists,
    pos_tables.prices,
    pos_tables.tax_rates,
    pos_tables.promotions,
    catalog_tables.products,
    catalog_tables.product_codes,
)


def _valid(table: Any, on: date) -> Any:
    return and_(
        or_(table.c.valid_from.is_(None), table.c.valid_from <= on),
        or_(table.c.valid_to.is_(None), table.c.valid_to >= on),
    )


def price_book(conn: Connection, site: str, on: date) -> BookSource | None:
    """The site's book on ``on``: each product at the price of the highest-priority list valid
    that day that has it; the currency, tax mode and cash step of the highest list."""
    lists = conn.execute(
        select(PL)
        .where(PL.c.site == site, _valid(PL, on))
        .order_by(PL.c.priority.desc(), PL.c.id.desc())
    ).all()
    if not lists:
        return None
    rank = {row.id: n for n, row in enumerate(lists)}
    rows = conn.execute(
        select(PR, P.c.sku, P.c.name)
        .join(P, P.c.id == PR.c.product_id)
        .where(PR.c.price_list_id.in_(rank), P.c.active)
    ).all()
    chosen: dict[int, Any] = {}
    for row in sorted(rows, key=lambda r: rank[r.price_list_id]):
        chosen.setdefault(row.product_id, row)
    codes: dict[int, list[str]] = {}
    if chosen:
        for code, product_id in conn.execute(
            select(PC.c.code, PC.c.product_id)
            .where(PC.c.product_id.in_(chosen))
            .order_by(PC.c.code)
        ):
            codes.setdefault(product_id, []).append(code)
    taxes: dict[str, Decimal] = {}
    for row in conn.execute(
        select(TR.c.category, TR.c.rate)
        .where(TR.c.site == site, _valid(TR, on))
        .order_by(TR.c.category, TR.c.valid_from.desc(), TR.c.id.desc())
    ):
        taxes.setdefault(row.category, Decimal(row.rate).normalize())
    promotions = tuple(
        pricing.Promotion(
            row.code, row.kind, tuple(json.loads(row.skus)), row.qty, row.get_qty, row.price_minor
        )
        for row in conn.execute(
            select(PM).where(PM.c.site == site, _valid(PM, on)).order_by(PM.c.id)
        )
    )
    head = lists[0]
    items = {
        row.sku: pricing.Item(
            row.sku,
            row.unit_price_minor,
            row.tax_category,
            row.name,
            tuple(codes.get(row.product_id, ())),
        )
        for row in chosen.values()
    }
    book = pricing.PriceBook(
        currency=head.currency,
        items=items,
        tax_rates=taxes,
        tax_inclusive=head.tax_inclusive,
        cash_step_minor=head.cash_step_minor,
        promotions=promotions,
        valid_on=on,
    )
    version = hashlib.sha256(book.to_json().encode()).hexdigest()[:16]
    return BookSource(
        replace(book, version=version),
        {row.sku: row.product_id for row in chosen.values()},
        {
            row.sku: row.unit_cost_minor
            for row in chosen.values()
            if row.unit_cost_minor is not None
        },
    )


def plain_rate(value: Any) -> str:
    """A stored tax rate as plain digits (``20``, ``7.5``)."""
    return pricing.plain(Decimal(value))
