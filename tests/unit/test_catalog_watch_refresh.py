"""A catalog with a listening watch reads the catalog version only when the watch heard a
change, lost its connection, or the last look is ``VERIFY_S`` old."""

from __future__ import annotations

from typing import Any, cast

from warehouse.catalog.adapters.barcodes import parse_code
from warehouse.stock.service.resolve import VERIFY_S, Catalog


class Version:
    def __init__(self) -> None:
        self.value = 1
        self.reads = 0

    def current(self) -> int:
        self.reads += 1
        return self.value


class Uow:
    def __init__(self) -> None:
        self.catalog_version = Version()


class Watch:
    def __init__(self) -> None:
        self.count: int | None = 0

    def generation(self) -> int | None:
        return self.count


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _catalog() -> tuple[Catalog, Uow, Watch, Clock]:
    clock = Clock()
    catalog = Catalog(parse_code, clock=clock)
    watch = Watch()
    catalog.watch = watch
    return catalog, Uow(), watch, clock


def test_a_quiet_watch_spares_the_read() -> None:
    catalog, uow, _watch, _clock = _catalog()
    for _ in range(5):
        catalog.refresh(cast(Any, uow))
    assert uow.catalog_version.reads == 1  # the first look only


def test_a_heard_change_is_read_and_drops_the_cache() -> None:
    catalog, uow, watch, _clock = _catalog()
    catalog.refresh(cast(Any, uow))
    catalog.cached("P:x", lambda: "old")
    uow.catalog_version.value, watch.count = 2, 1
    catalog.refresh(cast(Any, uow))
    assert uow.catalog_version.reads == 2
    assert catalog.cached("P:x", lambda: "new") == "new"


def test_a_watch_that_is_not_listening_means_reading_every_time() -> None:
    catalog, uow, watch, _clock = _catalog()
    watch.count = None
    for _ in range(3):
        catalog.refresh(cast(Any, uow))
    assert uow.catalog_version.reads == 3


def test_the_version_is_read_again_once_the_last_look_is_old() -> None:
    catalog, uow, _watch, clock = _catalog()
    catalog.refresh(cast(Any, uow))
    clock.now = VERIFY_S + 0.1  # a change made behind the application's back shows here
    catalog.refresh(cast(Any, uow))
    assert uow.catalog_version.reads == 2


def test_without_a_watch_every_refresh_reads() -> None:
    catalog, uow, _watch, _clock = _catalog()
    catalog.watch = None
    catalog.refresh(cast(Any, uow))
    catalog.refresh(cast(Any, uow))
    assert uow.catalog_version.reads == 2
