"""Price lists, tax rates and promotions per site: what a site's price book is made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from warehouse import pricing
from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound, SaleRule
from warehouse.pos.service.ports import NewPrice, NewPriceList, PosUnitOfWork


@dataclass(frozen=True, slots=True)
class PriceRequest:
    sku: str
    unit_price_minor: int
    tax_category: str = "standard"
    unit_cost_minor: int | None = None


def _check_dates(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise SaleRule("valid_to lies before valid_from", field="valid_to")


def create_price_list(
    uow: PosUnitOfWork,
    price_list: NewPriceList,
    prices: Sequence[PriceRequest],
    principal: str,
    now: datetime,
) -> int:
    """A site's price list: its currency, whether prices include tax, its cash step, its
    priority among lists valid on the same day, and its prices by SKU."""
    _check_dates(price_list.valid_from, price_list.valid_to)
    if price_list.cash_step_minor < 1:
        raise SaleRule("cash_step_minor is at least 1", field="cash_step_minor")
    seen: set[str] = set()
    rows = []
    with uow:
        if uow.pos.price_list_exists(price_list.site, price_list.name):
            raise Conflict(
                f"site {price_list.site} has a price list {price_list.name!r} already", field="name"
            )
        for index, x in enumerate(prices):
            if x.sku in seen:
                raise SaleRule(f"{x.sku} is listed twice", field=f"prices[{index}].sku")
            seen.add(x.sku)
            product = uow.products.get(x.sku)
            if product is None or product.id is None:
                raise NotFound(f"no product {x.sku!r}", field=f"prices[{index}].sku")
            rows.append(NewPrice(product.id, x.unit_price_minor, x.tax_category, x.unit_cost_minor))
        pk = uow.pos.add_price_list(replace(price_list, prices=rows), now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "price_list.create",
                f"price_list:{price_list.site}/{price_list.name}",
                price_list.site,
                None,
                {"prices": len(rows), "priority": price_list.priority},
            )
        )
        uow.catalog_version.bump()  # cached price books are stale now
        uow.commit()
    return pk


def add_tax_rate(
    uow: PosUnitOfWork,
    site: str,
    category: str,
    rate: Decimal,
    valid_from: date,
    valid_to: date | None,
    principal: str,
    now: datetime,
) -> int:
    """A tax rate (percent) for a category at a site from a day on; the latest start wins."""
    _check_dates(valid_from, valid_to)
    with uow:
        pk = uow.pos.add_tax_rate(site, category, rate, valid_from, valid_to)
        uow.audit.add(
            AuditEntry(
                now, principal, "tax_rate.create", f"tax_rate:{site}/{category}", site, None,
                {"rate": str(rate), "valid_from": valid_from.isoformat()},
            )
        )  # fmt: skip
        uow.catalog_version.bump()  # cached price books are stale now
        uow.commit()
    return pk


def add_promotion(
    uow: PosUnitOfWork,
    site: str,
    promotion: pricing.Promotion,
    valid: tuple[date | None, date | None],
    principal: str,
    now: datetime,
) -> int:
    """A multi-buy, buy-X-get-Y or bundle promotion at a site (rules in warehouse.pricing)."""
    _check_dates(*valid)
    if promotion.kind not in pricing.PROMOTION_KINDS:
        raise SaleRule(f"unknown promotion kind {promotion.kind!r}", field="kind")
    if promotion.kind == "buy_x_get_y" and promotion.get < 1:
        raise SaleRule("a buy-X-get-Y promotion gives at least one unit", field="get")
    if promotion.kind == "bundle" and len(set(promotion.skus)) < 2:
        raise SaleRule("a bundle lists at least two products", field="skus")
    with uow:
        if uow.pos.promotion_exists(site, promotion.code):
            raise Conflict(f"site {site} has a promotion {promotion.code!r} already", field="code")
        for index, sku in enumerate(promotion.skus):
            if uow.products.get(sku) is None:
                raise NotFound(f"no product {sku!r}", field=f"skus[{index}]")
        pk = uow.pos.add_promotion(site, promotion, valid)
        uow.audit.add(
            AuditEntry(
                now, principal, "promotion.create", f"promotion:{site}/{promotion.code}", site,
                None, {"kind": promotion.kind, "skus": list(promotion.skus)},
            )
        )  # fmt: skip
        uow.catalog_version.bump()  # cached price books are stale now
        uow.commit()
    return pk
