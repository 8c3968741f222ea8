"""RFID observations: arrivals move serialized units; a sweep is compared with the units.

A batch's observations are applied together: every EPC they name is read in one query, a tag of
no known unit becomes one when its SGTIN's GTIN is a product (looked up in the catalog cache),
and all placements are written at once. A sweep compares with the units as they stand at that
point of the batch, so what came before it is written first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from warehouse.floor.events import FloorEvent
from warehouse.ingest.service.ports import IngestUnitOfWork
from warehouse.stock.domain.model import Location
from warehouse.stock.service.ports import SerialUnit, Sweep
from warehouse.stock.service.resolve import Catalog
from warehouse.stock.service.units import UnitBook

log = logging.getLogger(__name__)


def observe_all(
    uow: IngestUnitOfWork,
    catalog: Catalog,
    observed: Sequence[tuple[FloorEvent, Location]],
    now: datetime,
) -> list[tuple[Sweep, FloorEvent, Location]]:
    """Apply a batch's observation events, in order, inside the caller's transaction; return
    the sweeps recorded."""
    swept: list[tuple[Sweep, FloorEvent, Location]] = []
    if not observed:
        return swept
    tags = {event.event_id: _tags(catalog, event) for event, _ in observed}
    book = UnitBook(uow, [], [epc for listed in tags.values() for epc in listed])
    for event, location in observed:
        assert location.id is not None
        assert event.observation is not None
        if event.observation.snapshot is not None:
            book.store(now)  # the sweep sees every placement before it
            seen = set(tags[event.event_id])
            expected = uow.units.epcs_at(location.id)
            sweep = Sweep(
                event.event_id,
                event.agent_id,
                location.id,
                event.occurred_at,
                len(expected),
                len(seen),
                tuple(sorted(expected - seen)),
                tuple(sorted(seen - expected)),
            )
            uow.sweeps.add(sweep)
            swept.append((sweep, event, location))
            book = UnitBook(uow, [], [epc for listed in tags.values() for epc in listed])
        for epc in tags[event.event_id]:
            _arrive(uow, catalog, book, epc, location, event)
    book.store(now)
    return swept


def _tags(catalog: Catalog, event: FloorEvent) -> list[str]:
    """The EPCs an observation says arrived (a sweep: all it saw), as uppercase hex."""
    observation = event.observation
    assert observation is not None
    listed = observation.snapshot if observation.snapshot is not None else observation.arrivals
    out = []
    for epc in listed:
        parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
        out.append(parsed.hex if parsed else epc.upper())
    return sorted(set(out)) if observation.snapshot is not None else out


def _arrive(
    uow: IngestUnitOfWork,
    catalog: Catalog,
    book: UnitBook,
    epc: str,
    location: Location,
    event: FloorEvent,
) -> None:
    assert location.id is not None
    unit = book.find(None, None, epc)
    if unit is not None:
        if unit.location_id != location.id:
            book.place(replace(unit, location_id=location.id), unit)
        return
    parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
    product = catalog.by_gtin(uow, parsed.gtin) if parsed and parsed.gtin else None
    if product is None or product.id is None:
        log.info(
            "observation event_id=%s agent_id=%s: tag %s matches no unit or product",
            event.event_id,
            event.agent_id,
            epc,
        )
        return
    book.place(SerialUnit(product.id, parsed.serial if parsed else None, epc, location.id), None)
