"""The price book: what a site sells, at what price and tax, with which promotions, on one day;
and its JSON form, which the service sends to edge registers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from warehouse.pricing.money import PricingError, plain

PromotionKind = Literal["multibuy", "buy_x_get_y", "bundle"]


PROMOTION_KINDS: tuple[str, ...] = ("multibuy", "buy_x_get_y", "bundle")


@dataclass(frozen=True, slots=True)
class Item:
    """A product as the price book sells it."""

    sku: str
    unit_price_minor: int
    tax_category: str = "standard"
    name: str = ""
    codes: tuple[str, ...] = ()  # GTINs and other codes it is scanned by


@dataclass(frozen=True, slots=True)
class Promotion:
    code: str
    kind: PromotionKind
    skus: tuple[str, ...]
    qty: int = 1  # multibuy: units per group; buy_x_get_y: units bought
    get: int = 0  # buy_x_get_y: units free per group
    price_minor: int = 0  # multibuy and bundle: what a group costs


@dataclass(frozen=True, slots=True)
class PriceBook:
    """What a site sells, at what price and tax, on one day."""

    currency: str
    items: Mapping[str, Item]
    tax_rates: Mapping[str, Decimal]  # category -> percent
    exponent: int = 2
    tax_inclusive: bool = True
    cash_step_minor: int = 1
    promotions: tuple[Promotion, ...] = ()
    valid_on: date | None = None
    version: str = ""
    #: products the registers will refuse (no price that day, or no tax rate for their
    #: category): how many, and the first of them by SKU
    refused_count: int = 0
    refused: tuple[str, ...] = ()

    def item(self, sku: str) -> Item | None:
        return self.items.get(sku)

    def by_code(self) -> dict[str, str]:
        """Code -> SKU, for a register that looks scans up (GTINs as 14 digits)."""
        return {code: item.sku for item in self.items.values() for code in item.codes}

    def sku_for(self, code: str, codes: Mapping[str, str] | None = None) -> str | None:
        """The SKU a scanned code (a GTIN-8/12/13/14, an alias or the SKU itself) names."""
        codes = self.by_code() if codes is None else codes
        if code in codes:
            return codes[code]
        if code.isdigit() and len(code) in (8, 12, 13) and code.zfill(14) in codes:
            return codes[code.zfill(14)]
        return code if code in self.items else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "exponent": self.exponent,
            "tax_inclusive": self.tax_inclusive,
            "cash_step_minor": self.cash_step_minor,
            "valid_on": self.valid_on.isoformat() if self.valid_on else None,
            "version": self.version,
            "refused_count": self.refused_count,
            "refused": list(self.refused),
            "tax_rates": {k: plain(v) for k, v in sorted(self.tax_rates.items())},
            "items": [
                {
                    "sku": i.sku,
                    "unit_price_minor": i.unit_price_minor,
                    "tax_category": i.tax_category,
                    "name": i.name,
                    "codes": list(i.codes),
                }
                for i in sorted(self.items.values(), key=lambda i: i.sku)
            ],
            "promotions": [
                {
                    "code": p.code,
                    "kind": p.kind,
                    "skus": list(p.skus),
                    "qty": p.qty,
                    "get": p.get,
                    "price_minor": p.price_minor,
                }
                for p in self.promotions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceBook:
        try:
            items = {
                i["sku"]: Item(
                    i["sku"],
                    int(i["unit_price_minor"]),
                    i.get("tax_category", "standard"),
                    i.get("name", ""),
                    tuple(i.get("codes", ())),
                )
                for i in data["items"]
            }
            promotions = tuple(
                Promotion(
                    p["code"],
                    p["kind"],
                    tuple(p["skus"]),
                    int(p.get("qty", 1)),
                    int(p.get("get", 0)),
                    int(p.get("price_minor", 0)),
                )
                for p in data.get("promotions", ())
            )
            valid_on = data.get("valid_on")
            return cls(
                currency=data["currency"],
                items=items,
                tax_rates={k: Decimal(v) for k, v in data["tax_rates"].items()},
                exponent=int(data.get("exponent", 2)),
                tax_inclusive=bool(data.get("tax_inclusive", True)),
                cash_step_minor=int(data.get("cash_step_minor", 1)),
                promotions=promotions,
                valid_on=date.fromisoformat(valid_on) if valid_on else None,
                version=str(data.get("version", "")),
                refused_count=int(data.get("refused_count", 0)),
                refused=tuple(str(s) for s in data.get("refused", ())),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise PricingError(f"not a price book: {exc!r}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PriceBook:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PricingError(f"not a price book: {exc.msg}") from None
