"""GS1 Digital Link keys: normalised as the URI syntax standard writes them (GTINs as 14
digits, qualifiers percent-encoded), refused by the AI that is wrong, and the linkset shape of
RFC 9264 with GS1's default link first."""

from __future__ import annotations

import pytest

from warehouse.interop.domain import (
    VOC,
    BadKey,
    Kind,
    Link,
    Resolved,
    location_key,
    package_key,
    product_key,
)


@pytest.mark.parametrize(
    ("gtin", "canonical"),
    [
        ("96385074", "00000096385074"),  # GTIN-8 (GS1's example)
        ("614141123452", "00614141123452"),  # GTIN-12
        ("9506000134352", "09506000134352"),  # GTIN-13
        ("09506000134352", "09506000134352"),
    ],
)
def test_gtins_of_every_length_become_fourteen_digits(gtin: str, canonical: str) -> None:
    assert product_key(gtin).path == f"/01/{canonical}"


def test_qualifiers_are_percent_encoded_and_name_the_kind() -> None:
    lot = product_key("9506000134352", lot="AB/12&C")
    assert (lot.kind, lot.path) == (Kind.LOT, "/01/09506000134352/10/AB%2F12%26C")
    unit = product_key("9506000134352", serial="12345")
    assert (unit.kind, unit.path) == (Kind.SERIAL, "/01/09506000134352/21/12345")
    assert location_key("9506000164908", "A1").path == "/414/9506000164908/254/A1"
    assert package_key("106141411234567897").path == "/00/106141411234567897"


@pytest.mark.parametrize(
    ("make", "ai"),
    [
        (lambda: product_key("9506000134353"), "01"),  # check digit
        (lambda: product_key("950600013435"), "01"),  # 12 digits, wrong check
        (lambda: product_key("123456789"), "01"),  # no such length
        (lambda: product_key("9506000134352", lot=""), "10"),
        (lambda: product_key("9506000134352", lot="x" * 21), "10"),
        (lambda: product_key("9506000134352", serial="a b"), "21"),
        (lambda: location_key("950600016490"), "414"),
        (lambda: location_key("9506000164908", "é"), "254"),
        (lambda: package_key("10614141123456789"), "00"),
    ],
)
def test_a_wrong_part_is_refused_by_its_ai(make: object, ai: str) -> None:
    with pytest.raises(BadKey) as caught:
        make()  # type: ignore[operator]
    assert caught.value.part == ai


def test_the_linkset_puts_the_default_link_first_and_groups_by_type() -> None:
    resolved = Resolved(
        product_key("9506000134352"),
        {"sku": "X"},
        [
            Link("pip", "/products/X", "Page", "text/html"),
            Link("masterData", "/api/v1/products/X", "Data"),
        ],
    )
    (entry,) = resolved.linkset("https://wh.example")["linkset"]
    assert entry["anchor"] == "https://wh.example/01/09506000134352"
    assert entry[VOC + "defaultLink"] == [
        {"href": "https://wh.example/products/X", "title": "Page", "type": "text/html"}
    ]
    assert entry[VOC + "masterData"][0]["href"] == "https://wh.example/api/v1/products/X"
    assert resolved.link("gs1:masterData") is resolved.links[1]
    assert resolved.link(VOC + "pip") is resolved.links[0]
    assert resolved.link("gs1:defaultLink") is resolved.links[0]
    assert resolved.link("gs1:recipeInfo") is None
