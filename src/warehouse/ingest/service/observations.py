"""RFID observations: arrivals move serialized units; a sweep is compared with the units.

A batch's observations are applied together: every tag they name is decoded once (hex as
readers report it, or an EPC URN as the contract allows), every unit they can name is read in one
query (by EPC, or by product and serial for an SGTIN), a tag of no known unit becomes one when
its SGTIN's GTIN is a product (looked up in the catalog cache), and all placements are written at
once. A sweep compares with the units as they stand at that point of the batch, so what came
before it is written first.

What does not fit is collected for the exceptions queue: a tag that is no unit and names no
product, and (on arrival) a unit RFID sees somewhere else than the ledger's movements put it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from warehouse.floor.events import FloorEvent
from warehouse.ingest.service.ports import IngestUnitOfWork
from warehouse.stock.domain.model import Location
from warehouse.stock.service.ports import SerialUnit, Sweep
from warehouse.stock.service.resolve import Catalog
from warehouse.stock.service.units import UnitBook


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag as an observation named it, decoded: how it is shown, its binary when the report
    gives one, and for an SGTIN of a known product that product and the serial."""

    shown: str
    hex: str | None
    product_id: int | None = None
    serial: str | None = None

    @property
    def key(self) -> object:
        """What the tag is the same thing as: a product's serial, else its EPC."""
        if self.product_id is not None and self.serial:
            return (self.product_id, self.serial)
        return self.hex or self.shown


@dataclass(slots=True)
class Observed:
    """What a batch's observations found: the sweeps recorded, tags that match nothing, and
    units seen where the ledger does not put them (with the ledger's location id)."""

    sweeps: list[tuple[Sweep, FloorEvent, Location]] = field(default_factory=list)
    unknown: list[tuple[FloorEvent, Location, list[str]]] = field(default_factory=list)
    elsewhere: list[tuple[FloorEvent, Location, list[tuple[str, int]]]] = field(
        default_factory=list
    )


def observe_all(
    uow: IngestUnitOfWork,
    catalog: Catalog,
    observed: Sequence[tuple[FloorEvent, Location]],
    now: datetime,
) -> Observed:
    """Apply a batch's observation events, in order, inside the caller's transaction."""
    out = Observed()
    if not observed:
        return out
    tags = {event.event_id: _tags(uow, catalog, event) for event, _ in observed}
    every = [tag for listed in tags.values() for tag in listed]
    book = _book(uow, every)
    for event, location in observed:
        assert location.id is not None
        assert event.observation is not None
        sweep = event.observation.snapshot is not None
        if sweep:
            book.store(now)  # the sweep sees every placement before it
            out.sweeps.append(
                (_sweep(uow, book, event, location, tags[event.event_id]), event, location)
            )
            book = _book(uow, every)
        unknown: list[str] = []
        elsewhere: list[tuple[str, int]] = []
        for tag in tags[event.event_id]:
            _arrive(book, tag, location, unknown, elsewhere if not sweep else None)
        if unknown:
            out.unknown.append((event, location, unknown))
        if elsewhere:
            out.elsewhere.append((event, location, elsewhere))
    book.store(now)
    return out


def _book(uow: IngestUnitOfWork, tags: Sequence[Tag]) -> UnitBook:
    serials = [(t.product_id, t.serial) for t in tags if t.product_id is not None and t.serial]
    return UnitBook(uow, serials, [t.hex for t in tags if t.hex])


def _tags(uow: IngestUnitOfWork, catalog: Catalog, event: FloorEvent) -> list[Tag]:
    """The tags an observation says arrived (a sweep: all it saw, each once)."""
    observation = event.observation
    assert observation is not None
    listed = observation.snapshot if observation.snapshot is not None else observation.arrivals
    out = [_tag(uow, catalog, epc) for epc in listed]
    if observation.snapshot is None:
        return out
    unique = {tag.key: tag for tag in out}
    return sorted(unique.values(), key=lambda t: t.shown)


def _tag(uow: IngestUnitOfWork, catalog: Catalog, epc: str) -> Tag:
    parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
    if parsed is None:  # not an EPC the decoder knows: kept as it was read
        return Tag(epc.upper(), epc.upper())
    product = catalog.by_gtin(uow, parsed.gtin) if parsed.gtin else None
    if product is None or product.id is None or not parsed.serial:
        return Tag(parsed.hex or parsed.uri or epc, parsed.hex or None)
    return Tag(parsed.hex or parsed.uri or epc, parsed.hex or None, product.id, parsed.serial)


def _sweep(
    uow: IngestUnitOfWork, book: UnitBook, event: FloorEvent, location: Location, seen: list[Tag]
) -> Sweep:
    """A sweep compared with the units the ledger and RFID place at ``location``."""
    assert location.id is not None
    expected = {_key(unit): unit for unit in uow.units.at(location.id)}
    keys = {tag.key for tag in seen}
    sweep = Sweep(
        event.event_id,
        event.agent_id,
        location.id,
        event.occurred_at,
        len(expected),
        len(seen),
        tuple(sorted(u.epc or u.serial or "" for k, u in expected.items() if k not in keys)),
        tuple(sorted(tag.shown for tag in seen if tag.key not in expected)),
    )
    uow.sweeps.add(sweep)
    return sweep


def _key(unit: SerialUnit) -> object:
    return (unit.product_id, unit.serial) if unit.serial else unit.epc


def _arrive(
    book: UnitBook,
    tag: Tag,
    location: Location,
    unknown: list[str],
    elsewhere: list[tuple[str, int]] | None,
) -> None:
    """A tag seen at ``location``: its unit is there now (and learns its tag's binary); a new
    unit when its SGTIN names a product; else an unknown tag. On arrival (``elsewhere`` given)
    a unit the ledger put somewhere else is noted."""
    assert location.id is not None
    unit = book.find(tag.product_id, tag.serial, tag.hex)
    if unit is not None:
        epc = tag.hex or unit.epc
        if unit.location_id != location.id or unit.epc != epc:
            book.place(replace(unit, location_id=location.id, epc=epc), unit)
        ledger = unit.ledger_location_id
        if elsewhere is not None and ledger is not None and ledger != location.id:
            elsewhere.append((tag.shown, ledger))
        return
    if tag.product_id is None:
        unknown.append(tag.shown)
        return
    book.place(SerialUnit(tag.product_id, tag.serial, tag.hex, location.id), None)
