"""Units of measure: conversions only within a dimension, exact; the precision each unit keeps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from warehouse.catalog.domain import Product, UnitMismatch, convert, unit_of
from warehouse.core.errors import StockRule
from warehouse.stock.domain.ledger import check_quantity

D = Decimal


@pytest.mark.parametrize(
    ("qty", "source", "target", "expected"),
    [
        ("1250", "g", "kg", "1.25"),
        ("2", "lb", "kg", "0.90718474"),
        ("1.5", "kg", "g", "1500"),
        ("250", "ml", "l", "0.25"),
        ("3", "ft", "m", "0.9144"),
        ("0.002", "m3", "l", "2"),
        ("7", "ea", "ea", "7"),
        ("7", "KG", "kg", "7"),
    ],
)
def test_conversions_within_a_dimension_are_exact(
    qty: str, source: str, target: str, expected: str
) -> None:
    assert convert(D(qty), source, target) == D(expected)


@pytest.mark.parametrize(
    ("source", "target"), [("g", "m"), ("kg", "ea"), ("box", "ea"), ("l", "m2")]
)
def test_units_of_other_dimensions_do_not_convert(source: str, target: str) -> None:
    with pytest.raises(UnitMismatch, match=f"{source} .* does not convert to {target}"):
        convert(D(1), source, target)


def test_each_unit_keeps_its_quantities_to_its_places() -> None:
    apples = Product("APL", "Apples", unit="kg")
    check_quantity(apples, D("1.234"))  # to the gram
    with pytest.raises(StockRule, match="kept in kg to 3 decimal places"):
        check_quantity(apples, D("1.2345"))
    assert unit_of("mm").places == 0
    assert unit_of("roll").dimension == "count"
    with pytest.raises(StockRule, match="must be whole"):
        check_quantity(Product("R", "Roll", unit="roll"), D("0.5"))
