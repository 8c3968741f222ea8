"""Rejected events and what RFID saw that does not fit, as exceptions for the queue."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from warehouse.exceptions.domain import SUGGESTIONS, ExceptionKind
from warehouse.exceptions.service.ports import NewException
from warehouse.floor.events import FloorEvent
from warehouse.ingest.service.observations import Observed
from warehouse.ingest.service.ports import IngestUnitOfWork, Rejection
from warehouse.stock.domain.model import Location
from warehouse.stock.service.ports import Sweep


def of_rejection(rejection: Rejection, event: FloorEvent | None) -> NewException:
    """The exception for a rejected event: an unknown code waits to be linked; any other
    reason is a rejected event to look at."""
    request = event.movement if event else None
    if rejection.reason == "unknown_product" and request is not None:
        kind = ExceptionKind.UNKNOWN_CODE
        code = request.code or request.gtin or request.epc
    else:
        kind, code = ExceptionKind.REJECTED_EVENT, None
    return NewException(
        kind=kind.value,
        detail=f"{rejection.reason}: {rejection.detail}",
        suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
        site=rejection.site,
        event_id=rejection.event_id,
        agent_id=rejection.agent_id,
        station=event.station if event else None,
        order_ref=request.order_ref if request else None,
        location=(request.to_location or request.from_location) if request else None,
        qty=request.qty if request else None,
        code=code,
    )


def of_sweeps(
    uow: IngestUnitOfWork, swept: Sequence[tuple[Sweep, FloorEvent, Location]]
) -> list[NewException]:
    """A sweep that missed units the ledger places at its location, or saw units placed
    elsewhere, is an exception of each kind, unless one is open for that location already
    (a counting station sweeps every minute; one open question per location is enough)."""
    wanted: list[tuple[ExceptionKind, tuple[str, ...], Sweep, FloorEvent, Location]] = []
    for sweep, event, location in swept:
        for kind, tags in (
            (ExceptionKind.MISSING_TAG, sweep.missing),
            (ExceptionKind.UNEXPECTED_TAG, sweep.unexpected),
        ):
            if tags:
                wanted.append((kind, tags, sweep, event, location))
    out: list[NewException] = []
    known: dict[str, set[tuple[str, str, str]]] = {}
    for kind, tags, _sweep, event, location in wanted:
        key = ("", location.code, "")
        if kind.value not in known:
            codes = [("", x[4].code, "") for x in wanted if x[0] is kind]
            known[kind.value] = uow.exceptions.open_keys(kind.value, codes)
        if key in known[kind.value]:
            continue
        known[kind.value].add(key)
        shown = ", ".join(tags[:5]) + (f" and {len(tags) - 5} more" if len(tags) > 5 else "")
        what = "not seen" if kind is ExceptionKind.MISSING_TAG else "seen and placed elsewhere"
        out.append(
            NewException(
                kind=kind.value,
                detail=f"sweep of {location.code}: {len(tags)} tags {what}: {shown}",
                suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
                site=location.site_code,
                event_id=event.event_id,
                agent_id=event.agent_id,
                station=event.station,
                location=location.code,
                qty=Decimal(len(tags)),
                code=tags[0],
            )
        )
    return out


def of_tags(uow: IngestUnitOfWork, observed: Observed) -> list[NewException]:
    """Tags that match nothing (``unknown_tag``) and units seen where the ledger does not put
    them (``unexpected_tag``): one exception of each kind per location, unless one is open
    there already (a portal reads the same tags again and again)."""
    wanted: list[tuple[ExceptionKind, FloorEvent, Location, list[str]]] = [
        (ExceptionKind.UNKNOWN_TAG, event, location, tags)
        for event, location, tags in observed.unknown
    ]
    places: dict[int, str] = {}
    for event, location, seen in observed.elsewhere:
        for _, ledger in seen:
            if ledger not in places:
                place = uow.locations.by_id(ledger)
                places[ledger] = place.code if place is not None else str(ledger)
        shown = [f"{tag} (the ledger put it at {places[ledger]})" for tag, ledger in seen]
        wanted.append((ExceptionKind.UNEXPECTED_TAG, event, location, shown))
    out: list[NewException] = []
    known: dict[str, set[tuple[str, str, str]]] = {}
    for kind, event, location, tags in wanted:
        key = ("", location.code, "")
        if kind.value not in known:
            keys = [("", x[2].code, "") for x in wanted if x[0] is kind]
            known[kind.value] = uow.exceptions.open_keys(kind.value, keys)
        if key in known[kind.value]:
            continue
        known[kind.value].add(key)
        what = (
            "are no unit and name no product"
            if kind is ExceptionKind.UNKNOWN_TAG
            else "are units the ledger put elsewhere"
        )
        out.append(
            NewException(
                kind=kind.value,
                detail=f"RFID at {location.code}: {len(tags)} tags {what}: {_listed(tags)}",
                suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
                site=location.site_code,
                event_id=event.event_id,
                agent_id=event.agent_id,
                station=event.station,
                location=location.code,
                qty=Decimal(len(tags)),
                code=tags[0].split(" ")[0],
            )
        )
    return out


def _listed(tags: Sequence[str]) -> str:
    return ", ".join(tags[:5]) + (f" and {len(tags) - 5} more" if len(tags) > 5 else "")
