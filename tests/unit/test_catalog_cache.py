"""The catalog's cache: repeats resolve once, per-event checks still run, failures never stick."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from warehouse.catalog.adapters.barcodes import parse_code
from warehouse.catalog.domain import Product, Tracking
from warehouse.core.errors import NotFound, RuleViolation
from warehouse.core.unit_of_work import UnitOfWork
from warehouse.stock.domain.model import Flag, Location, LocationKind
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

GTIN = "05901230001025"


class CountingProducts:
    def __init__(self, products: list[Product]) -> None:
        self.products = products
        self.loads = 0

    def get(self, sku: str) -> Product | None:
        self.loads += 1
        return next((p for p in self.products if p.sku == sku), None)

    def by_code(self, codes: Sequence[str]) -> Product | None:
        self.loads += 1
        return next((p for p in self.products for c in codes if c in p.gtins), None)


class CountingLocations:
    def __init__(self, locations: list[Location]) -> None:
        self.locations = {loc.code: loc for loc in locations}
        self.loads = 0

    def get(self, code: str) -> Location | None:
        self.loads += 1
        return self.locations.get(code)


class FakeUow:
    """Just the repositories resolution reads."""

    def __init__(self) -> None:
        self.products = CountingProducts(
            [
                Product("COF-250", "Coffee", gtins=[GTIN], id=1),
                Product("HDP", "Headphones", tracking=Tracking.SERIAL, id=2),
            ]
        )
        self.locations = CountingLocations(
            [
                Location("SUPPLIER", "Supplier", LocationKind.SUPPLIER, id=1),
                Location("DOCK", "Dock", LocationKind.DOCK, id=2),
                Location("BIN", "Bin", LocationKind.BIN, id=3),
            ]
        )

    def loads(self) -> int:
        return self.products.loads + self.locations.loads


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog(clock: Clock) -> Catalog:
    return Catalog(parse_code, ttl=30, clock=clock)


def build(uow: FakeUow, catalog: Catalog, event_id: str, **fields: Any) -> Any:
    request = MovementRequest(**{"kind": "transfer", "qty": Decimal(1), **fields})
    source = Provenance(datetime(2026, 11, 30, tzinfo=UTC), event_id=event_id)
    return build_movement(cast(UnitOfWork, uow), catalog, request, source)


def test_a_repeated_request_is_resolved_once_and_each_event_keeps_its_own_fields(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow = FakeUow()
    resolved = []
    product = catalog.product
    monkeypatch.setattr(catalog, "product", lambda *a: resolved.append(a) or product(*a))
    route = {"code": GTIN, "from_location": "DOCK", "to_location": "BIN"}
    first = build(uow, catalog, "e1", qty=Decimal(2), lot="L1", **route)
    loads = uow.loads()
    assert loads == 3  # the product and two locations
    second = build(uow, catalog, "e2", qty=Decimal(5), lot="L2", **route)
    assert uow.loads() == loads
    assert len(resolved) == 1  # the second event did not resolve its codes again
    assert (second.product, second.source, second.destination) == (
        first.product,
        first.source,
        first.destination,
    )
    assert (first.qty, first.lot, first.event_id) == (Decimal(2), "L1", "e1")
    assert (second.qty, second.lot, second.event_id) == (Decimal(5), "L2", "e2")
    assert second.flags is not first.flags


def test_per_event_checks_run_on_a_cached_route(catalog: Catalog) -> None:
    uow = FakeUow()
    route = {"sku": "HDP", "from_location": "DOCK", "to_location": "BIN"}
    ok = build(uow, catalog, "e1", serial="S1", **route)
    assert ok.flags == []
    with pytest.raises(RuleViolation) as refused:
        build(uow, catalog, "e2", qty=Decimal(2), serial="S2", **route)
    assert refused.value.field == "qty"
    assert build(uow, catalog, "e3", **route).flags == [Flag.MISSING_SERIAL]


def test_cached_routes_expire_after_the_ttl(catalog: Catalog, clock: Clock) -> None:
    uow = FakeUow()
    route = {"code": GTIN, "from_location": "DOCK", "to_location": "BIN"}
    build(uow, catalog, "e1", **route)
    loads = uow.loads()
    clock.now = 29
    build(uow, catalog, "e2", **route)
    assert uow.loads() == loads
    clock.now = 31
    build(uow, catalog, "e3", **route)
    assert uow.loads() == 2 * loads


def test_failures_are_not_cached(catalog: Catalog) -> None:
    uow = FakeUow()
    route = {"code": GTIN, "from_location": "DOCK", "to_location": "NEW-BIN"}
    with pytest.raises(NotFound) as missing:
        build(uow, catalog, "e1", **route)
    assert missing.value.field == "to_location"
    uow.locations.locations["NEW-BIN"] = Location("NEW-BIN", "New", LocationKind.BIN, id=4)
    assert build(uow, catalog, "e2", **route).destination.code == "NEW-BIN"
    bad_route = {"code": GTIN, "from_location": "SUPPLIER", "to_location": "BIN"}
    for event_id in ("e3", "e4"):  # a route the ledger refuses is refused every time
        with pytest.raises(RuleViolation) as refused:
            build(uow, catalog, event_id, **bad_route)
        assert refused.value.field == "from_location"
