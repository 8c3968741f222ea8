"""RFID observations: arrivals move serialized units; a sweep is compared with the units."""

from __future__ import annotations

import logging
from datetime import datetime

from warehouse.domain.model import Location
from warehouse.service_layer.commands import FloorEvent
from warehouse.service_layer.ports import SerialUnit, Sweep, UnitOfWork
from warehouse.service_layer.resolve import Catalog

log = logging.getLogger(__name__)


def observe(
    uow: UnitOfWork, catalog: Catalog, event: FloorEvent, location: Location, now: datetime
) -> None:
    """Apply one observation event inside the caller's transaction."""
    observation = event.observation
    assert observation is not None
    assert location.id is not None
    if observation.snapshot is not None:
        observed = {_hex(catalog, epc) for epc in observation.snapshot}
        expected = uow.units.epcs_at(location.id)
        uow.sweeps.add(
            Sweep(
                event.event_id,
                event.agent_id,
                location.id,
                event.occurred_at,
                len(expected),
                len(observed),
                tuple(sorted(expected - observed)),
                tuple(sorted(observed - expected)),
            )
        )
        arrivals = sorted(observed)
    else:
        arrivals = [_hex(catalog, epc) for epc in observation.arrivals]
    for epc in arrivals:
        _place(uow, catalog, epc, location, now, event)


def _hex(catalog: Catalog, epc: str) -> str:
    parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
    return parsed.hex if parsed else epc.upper()


def _place(
    uow: UnitOfWork,
    catalog: Catalog,
    epc: str,
    location: Location,
    now: datetime,
    event: FloorEvent,
) -> None:
    assert location.id is not None
    unit = uow.units.by_epc(epc)
    if unit is not None:
        if unit.location_id != location.id:
            uow.units.place(
                SerialUnit(unit.product_id, unit.serial, epc, location.id, unit.lot), now
            )
        return
    parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
    product = uow.products.by_code([parsed.gtin]) if parsed and parsed.gtin else None
    if product is None or product.id is None:
        log.info(
            "observation event_id=%s agent_id=%s: tag %s matches no unit or product",
            event.event_id,
            event.agent_id,
            epc,
        )
        return
    uow.units.place(
        SerialUnit(product.id, parsed.serial if parsed else None, epc, location.id), now
    )
