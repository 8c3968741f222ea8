"""The pricing engine against the pricing table, and its rules one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.pricing_table import CASES, Case, book
from warehouse import pricing, receipts


def priced(case: Case) -> tuple[pricing.PricedBasket, pricing.Settlement]:
    price_book = pricing.PriceBook.from_dict(
        book(promotions=case.promotions, exclusive=case.exclusive)
    )
    codes = {"2012345012349": "DELI", "2312345012340": "CHEESE"}
    lines = [
        pricing.LineInput(
            x.sku or codes[x.code or ""],
            x.qty,
            x.override_minor,
            x.embedded_price_minor,
            pricing.Discount(x.discount_percent, x.discount_amount_minor)
            if x.discount_percent is not None or x.discount_amount_minor is not None
            else None,
        )
        for x in case.lines
    ]
    discount = None
    if case.basket_percent is not None or case.basket_amount is not None:
        discount = pricing.Discount(case.basket_percent, case.basket_amount)
    basket = pricing.price_basket(price_book, lines, discount)
    tenders = [pricing.TenderInput(kind, amount) for kind, amount in case.tenders]
    return basket, pricing.settle(basket.total_minor, tenders, price_book.cash_step_minor)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_table_to_the_cent(case: Case) -> None:
    basket, paid = priced(case)
    assert basket.total_minor == case.total
    assert [(pricing.plain(t.rate), t.tax_minor) for t in basket.taxes] == list(case.taxes)
    assert basket.discount_minor == case.discounts
    assert (paid.change_minor, paid.rounding_minor) == (case.change, case.rounding)
    assert sum(ln.total_minor for ln in basket.lines) == (
        case.total if not case.exclusive else case.total - basket.tax_minor
    )


def test_a_promotion_takes_each_unit_once_and_spreads_its_discount_to_the_cent() -> None:
    price_book = pricing.PriceBook.from_dict(book(promotions=("TEA3", "LUNCH")))
    basket = pricing.price_basket(
        price_book,
        [pricing.LineInput("TEA-GRN", Decimal(3)), pricing.LineInput("WTR-6")],
    )
    # the three teas go to the multibuy (1000 for 1497); the bundle finds no tea left
    assert [(ln.sku, ln.promotion_minor, ln.promotions) for ln in basket.lines] == [
        ("TEA-GRN", 497, ["TEA3"]),
        ("WTR-6", 0, []),
    ]


def test_spreading_keeps_every_cent() -> None:
    assert pricing.money.spread(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(pricing.money.spread(347, [998, 349])) == 347


def test_only_cash_gives_change_and_short_tenders_are_refused() -> None:
    with pytest.raises(pricing.PricingError, match="only cash gives change"):
        pricing.settle(1000, [pricing.TenderInput("card", 1200)], 5)
    with pytest.raises(pricing.PricingError, match="short by 500"):
        pricing.settle(1000, [pricing.TenderInput("cash", 500)], 5)
    exact = pricing.settle(1002, [pricing.TenderInput("cash", 1000)], 5)  # 10.02 rounds to 10.00
    assert (exact.change_minor, exact.rounding_minor, exact.paid_minor) == (0, -2, 1000)


def test_unpriceable_lines_name_the_line() -> None:
    price_book = pricing.PriceBook.from_dict(book())
    with pytest.raises(pricing.PricingError) as err:
        pricing.price_basket(price_book, [pricing.LineInput("TEA-GRN"), pricing.LineInput("NOPE")])
    assert err.value.line == 1
    assert "line 2" in err.value.message
    with pytest.raises(pricing.PricingError):
        pricing.Discount(Decimal(10), 5)


def test_the_book_round_trips_and_finds_scanned_codes() -> None:
    price_book = pricing.PriceBook.from_dict(book(promotions=("TEA3",)))
    again = pricing.PriceBook.from_json(price_book.to_json())
    assert again == price_book
    assert price_book.sku_for("5901230001025") == "TEA-GRN"  # GTIN-13 as scanned
    assert price_book.sku_for("RIC-1K") == "RIC-1K"
    assert price_book.sku_for("nope") is None
    with pytest.raises(pricing.PricingError, match="not a price book"):
        pricing.PriceBook.from_json(b"{")


def test_the_receipt_text_fits_42_columns_and_adds_up() -> None:
    basket, paid = priced(CASES[-4])  # split tender
    doc = {
        **basket.to_dict(),
        **paid.to_dict(),
        "site": "ST1",
        "register": "ST1-REG1",
        "receipt_no": 7,
        "sale_id": "S-7",
        "at": "2026-12-02T10:00:00+00:00",
        "cashier": "alice",
        "lines": [{**ln, "name": ln["sku"]} for ln in basket.to_dict()["lines"]],
    }
    text = receipts.text(doc)
    assert all(len(line) <= receipts.WIDTH for line in text.splitlines())
    assert "TOTAL EUR" in text
    assert "12.97" in text
    assert "Change" in text
    assert "2.05" in text
    assert receipts.money(-5) == "-0.05"
