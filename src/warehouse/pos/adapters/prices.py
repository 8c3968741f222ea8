"""Price lists, tax rates, promotions and the price book they make, in SQL."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select

from warehouse import pricing
from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.service.ports import BookSource, NewPriceList

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
    chosen = _chosen_prices(conn, {row.id: n for n, row in enumerate(lists)})
    codes = _codes(conn, list(chosen))
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
    rates = _tax_rates(conn, site, on)
    refused_count, refused = _refused(conn, [row.id for row in lists], len(chosen), items, rates)
    book = pricing.PriceBook(
        currency=head.currency,
        items=items,
        tax_rates=rates,
        tax_inclusive=head.tax_inclusive,
        cash_step_minor=head.cash_step_minor,
        promotions=_promotions(conn, site, on),
        valid_on=on,
        refused_count=refused_count,
        refused=refused,
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


#: How many refused SKUs a book names (a store may price a fraction of a large catalog).
REFUSED_SHOWN = 50


def _refused(
    conn: Connection,
    list_ids: list[int],
    priced: int,
    items: dict[str, pricing.Item],
    rates: dict[str, Decimal],
) -> tuple[int, tuple[str, ...]]:
    """Active products a register will refuse: those without a price, and those whose tax
    category has no rate that day; how many, and the first by SKU."""
    untaxed = sorted(sku for sku, item in items.items() if item.tax_category not in rates)
    active = conn.execute(select(func.count()).select_from(P).where(P.c.active)).scalar_one()
    unpriced = int(active) - priced
    listed = select(PR.c.product_id).where(PR.c.price_list_id.in_(list_ids))
    first = list(
        conn.execute(
            select(P.c.sku)
            .where(P.c.active, P.c.id.not_in(listed))
            .order_by(P.c.sku)
            .limit(REFUSED_SHOWN)
        ).scalars()
    )
    return unpriced + len(untaxed), tuple(sorted(first + untaxed)[:REFUSED_SHOWN])


def _chosen_prices(conn: Connection, rank: dict[int, int]) -> dict[int, Any]:
    """Product id -> its price row from the best-ranked list that has it (active products)."""
    rows = conn.execute(
        select(PR, P.c.sku, P.c.name)
        .join(P, P.c.id == PR.c.product_id)
        .where(PR.c.price_list_id.in_(rank), P.c.active)
    ).all()
    chosen: dict[int, Any] = {}
    for row in sorted(rows, key=lambda r: rank[r.price_list_id]):
        chosen.setdefault(row.product_id, row)
    return chosen


def _codes(conn: Connection, product_ids: list[int]) -> dict[int, list[str]]:
    """Product id -> the codes it is scanned by."""
    codes: dict[int, list[str]] = {}
    if product_ids:
        for code, product_id in conn.execute(
            select(PC.c.code, PC.c.product_id)
            .where(PC.c.product_id.in_(product_ids))
            .order_by(PC.c.code)
        ):
            codes.setdefault(product_id, []).append(code)
    return codes


def _tax_rates(conn: Connection, site: str, on: date) -> dict[str, Decimal]:
    """Tax category -> the rate valid on ``on`` (the latest to start, when several are)."""
    taxes: dict[str, Decimal] = {}
    for row in conn.execute(
        select(TR.c.category, TR.c.rate)
        .where(TR.c.site == site, _valid(TR, on))
        .order_by(TR.c.category, TR.c.valid_from.desc(), TR.c.id.desc())
    ):
        taxes.setdefault(row.category, Decimal(row.rate).normalize())
    return taxes


def _promotions(conn: Connection, site: str, on: date) -> tuple[pricing.Promotion, ...]:
    """The site's promotions valid on ``on``, in the order they were made (the order they apply)."""
    return tuple(
        pricing.Promotion(
            row.code, row.kind, tuple(json.loads(row.skus)), row.qty, row.get_qty, row.price_minor
        )
        for row in conn.execute(
            select(PM).where(PM.c.site == site, _valid(PM, on)).order_by(PM.c.id)
        )
    )


def plain_rate(value: Any) -> str:
    """A stored tax rate as plain digits (``20``, ``7.5``)."""
    return pricing.plain(Decimal(value))


class SqlPrices:
    """Price lists, tax rates and promotions of the point of sale's repository."""

    conn: Connection

    def price_list_exists(self, site: str, name: str) -> bool:
        found = select(PL.c.id).where(PL.c.site == site, PL.c.name == name)
        return self.conn.execute(found).first() is not None

    def add_price_list(self, price_list: NewPriceList, now: datetime) -> int:
        pk = int(
            self.conn.execute(
                insert(PL).returning(PL.c.id),
                {
                    "site": price_list.site,
                    "name": price_list.name,
                    "currency": price_list.currency,
                    "tax_inclusive": price_list.tax_inclusive,
                    "cash_step_minor": price_list.cash_step_minor,
                    "priority": price_list.priority,
                    "valid_from": price_list.valid_from,
                    "valid_to": price_list.valid_to,
                    "created_at": now,
                },
            ).scalar_one()
        )
        if price_list.prices:
            self.conn.execute(
                insert(PR),
                [
                    {
                        "price_list_id": pk,
                        "product_id": x.product_id,
                        "unit_price_minor": x.unit_price_minor,
                        "tax_category": x.tax_category,
                        "unit_cost_minor": x.unit_cost_minor,
                    }
                    for x in price_list.prices
                ],
            )
        return pk

    def add_tax_rate(
        self, site: str, category: str, rate: Decimal, valid_from: date, valid_to: date | None
    ) -> int:
        row = {"site": site, "category": category, "rate": rate}
        row |= {"valid_from": valid_from, "valid_to": valid_to}
        return int(self.conn.execute(insert(TR).returning(TR.c.id), row).scalar_one())

    def promotion_exists(self, site: str, code: str) -> bool:
        found = select(PM.c.id).where(PM.c.site == site, PM.c.code == code)
        return self.conn.execute(found).first() is not None

    def add_promotion(
        self, site: str, promotion: pricing.Promotion, valid: tuple[date | None, date | None]
    ) -> int:
        row = {
            "site": site,
            "code": promotion.code,
            "kind": promotion.kind,
            "skus": json.dumps(list(promotion.skus)),
            "qty": promotion.qty,
            "get_qty": promotion.get,
            "price_minor": promotion.price_minor,
            "valid_from": valid[0],
            "valid_to": valid[1],
        }
        return int(self.conn.execute(insert(PM).returning(PM.c.id), row).scalar_one())

    def price_book(self, site: str, on: date) -> BookSource | None:
        return price_book(self.conn, site, on)
