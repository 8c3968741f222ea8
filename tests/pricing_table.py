"""The pricing table: baskets and what they must cost, to the cent. Run through the engine
(tests/unit/test_pricing.py), the service's API and the edge register
(tests/integration/test_pos_pricing.py): the same basket gives the same cents everywhere.

The book: tea at the reduced rate (7 %), the rest at the standard rate (20 %), prices including
tax unless a case says ``exclusive``; cash rounded to 0.05. A price-embedded deli item (Swedish
rules: ``20`` + item + price) and a weighed cheese (Finnish rules: ``23`` + item + weight).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DELI_CODE = "2012345012349"  # se: item 02012345000001, price 12.34
CHEESE_CODE = "2312345012340"  # fi: item 02312345000002, 1.234 kg

ITEMS = [
    {
        "sku": "TEA-GRN",
        "unit_price_minor": 499,
        "tax_category": "reduced",
        "codes": ["05901230001025"],
    },
    {
        "sku": "TEA-BLK",
        "unit_price_minor": 349,
        "tax_category": "reduced",
        "codes": ["05901230001032"],
    },
    {
        "sku": "PST-500",
        "unit_price_minor": 189,
        "tax_category": "standard",
        "codes": ["05901230001087"],
    },
    {
        "sku": "WTR-6",
        "unit_price_minor": 299,
        "tax_category": "standard",
        "codes": ["05901230001070"],
    },
    {
        "sku": "RIC-1K",
        "unit_price_minor": 1000,
        "tax_category": "standard",
        "codes": ["05901230001094"],
    },
    {"sku": "DELI", "unit_price_minor": 0, "tax_category": "standard", "codes": ["02012345000001"]},
    {
        "sku": "CHEESE",
        "unit_price_minor": 1890,
        "tax_category": "standard",
        "codes": ["02312345000002"],
    },
]
TAX_RATES = {"standard": "20", "reduced": "7"}
PROMOTIONS = {
    "TEA3": {
        "code": "TEA3",
        "kind": "multibuy",
        "skus": ["TEA-GRN", "TEA-BLK"],
        "qty": 3,
        "price_minor": 1000,
    },
    "PST-B2G1": {
        "code": "PST-B2G1",
        "kind": "buy_x_get_y",
        "skus": ["PST-500"],
        "qty": 2,
        "get": 1,
    },
    "LUNCH": {"code": "LUNCH", "kind": "bundle", "skus": ["TEA-GRN", "WTR-6"], "price_minor": 700},
}


def book(*, promotions: tuple[str, ...] = (), exclusive: bool = False) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "tax_inclusive": not exclusive,
        "cash_step_minor": 5,
        "tax_rates": TAX_RATES,
        "items": ITEMS,
        "promotions": [PROMOTIONS[p] for p in promotions],
    }


@dataclass(frozen=True)
class Line:
    """A line as rung up: by SKU, or by a barcode (``code``) the register decodes."""

    sku: str | None = None
    code: str | None = None
    qty: Decimal = Decimal(1)
    discount_percent: Decimal | None = None
    discount_amount_minor: int | None = None
    override_minor: int | None = None
    embedded_price_minor: int | None = None  # what the barcode carries (service path)


@dataclass(frozen=True)
class Case:
    name: str
    lines: tuple[Line, ...]
    tenders: tuple[tuple[str, int], ...]
    total: int
    taxes: tuple[tuple[str, int], ...]  # (rate, tax)
    change: int = 0
    rounding: int = 0
    promotions: tuple[str, ...] = ()
    exclusive: bool = False
    basket_percent: Decimal | None = None
    basket_amount: int | None = None
    discounts: int = 0  # promotions, line and basket discounts together
    extra: dict[str, Any] = field(default_factory=dict)


D = Decimal
CASES = [
    Case(
        "plain",
        (Line("TEA-GRN", qty=D(2)), Line("WTR-6")),
        (("card", 1297),),
        1297,
        (("7", 65), ("20", 50)),
    ),
    Case(
        "line percent discount",
        (Line("TEA-GRN", qty=D(2), discount_percent=D(10)),),
        (("card", 898),),
        898,
        (("7", 59),),
        discounts=100,
    ),
    Case(
        "line amount discount",
        (Line("RIC-1K", discount_amount_minor=150),),
        (("card", 850),),
        850,
        (("20", 142),),
        discounts=150,
    ),
    Case(
        "basket percent discount",
        (Line("TEA-GRN"), Line("RIC-1K")),
        (("card", 1349),),
        1349,
        (("7", 29), ("20", 150)),
        basket_percent=D(10),
        discounts=150,
    ),
    Case(
        "basket amount discount",
        (Line("TEA-GRN"), Line("RIC-1K")),
        (("card", 1299),),
        1299,
        (("7", 28), ("20", 145)),
        basket_amount=200,
        discounts=200,
    ),
    Case(
        "multibuy three for ten, mixed",
        (Line("TEA-GRN", qty=D(2)), Line("TEA-BLK", qty=D(2))),
        (("card", 1349),),
        1349,
        (("7", 88),),
        promotions=("TEA3",),
        discounts=347,
    ),
    Case(
        "buy two get one free",
        (Line("PST-500", qty=D(3)),),
        (("card", 378),),
        378,
        (("20", 63),),
        promotions=("PST-B2G1",),
        discounts=189,
    ),
    Case(
        "buy two get one free, seven",
        (Line("PST-500", qty=D(7)),),
        (("card", 945),),
        945,
        (("20", 158),),
        promotions=("PST-B2G1",),
        discounts=378,
    ),
    Case(
        "mixed bundle",
        (Line("TEA-GRN"), Line("WTR-6", qty=D(2))),
        (("card", 999),),
        999,
        (("7", 29), ("20", 94)),
        promotions=("LUNCH",),
        discounts=98,
    ),
    Case(
        "tax exclusive",
        (Line("TEA-GRN", qty=D(2)), Line("WTR-6")),
        (("card", 1427),),
        1427,
        (("7", 70), ("20", 60)),
        exclusive=True,
    ),
    Case(
        "cash rounding and change",
        (Line("TEA-GRN", qty=D(2)), Line("WTR-6")),
        (("cash", 2000),),
        1297,
        (("7", 65), ("20", 50)),
        change=705,
        rounding=-2,
    ),
    Case(
        "split tender",
        (Line("TEA-GRN", qty=D(2)), Line("WTR-6")),
        (("card", 1000), ("cash", 500)),
        1297,
        (("7", 65), ("20", 50)),
        change=205,
        rounding=-2,
    ),
    Case(
        "price-embedded barcode",
        (Line(code=DELI_CODE, embedded_price_minor=1234),),
        (("cash", 1235),),
        1234,
        (("20", 206),),
        rounding=1,
    ),
    Case(
        "weighed item",
        (Line(code=CHEESE_CODE, qty=D("1.234")),),
        (("card", 2332),),
        2332,
        (("20", 389),),
    ),
    Case(
        "manager price override",
        (Line("RIC-1K", override_minor=500),),
        (("card", 500),),
        500,
        (("20", 83),),
    ),
]
