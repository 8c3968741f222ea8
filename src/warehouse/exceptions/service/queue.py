"""The exceptions queue: what the ingest could not reconcile becomes an exception here, and a
manager resolves it — links an unknown code to a product (the event that waited applies then),
posts an adjustment, accepts what happened, or dismisses it with a reason. Every resolution is
audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, DomainError, NotFound, ResolutionRule
from warehouse.exceptions.domain import SUGGESTIONS, ExceptionKind, ExceptionStatus, Resolution
from warehouse.exceptions.service.ports import ExceptionsUnitOfWork, NewException
from warehouse.stock.domain.model import Flag, Movement, MovementKind
from warehouse.stock.service import posting
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement


class WaitingEvent(Protocol):
    """An event kept in the inbox, decoded again: what it reported and who reported it (the
    ingest's ``FloorEvent``)."""

    @property
    def movement(self) -> MovementRequest | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def event_id(self) -> str: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def device(self) -> str | None: ...
    @property
    def station(self) -> str | None: ...


#: Turns a stored event's payload back into the event (the ingest worker's contract decoder);
#: None for one that never decoded.
EventDecoder = Callable[[bytes], WaitingEvent | None]


def of_negative(uow: ExceptionsUnitOfWork, movements: Sequence[Movement]) -> list[NewException]:
    """One exception per product, location and lot that floor movements took below zero and
    that has none open yet: a bin that stays negative is one thing to look at, not one per
    movement. (The movements themselves carry the ``negative_stock`` flag.)"""
    kind = ExceptionKind.NEGATIVE_STOCK
    first: dict[tuple[str, str, str], Movement] = {}
    for m in movements:
        if Flag.NEGATIVE_STOCK in m.flags:
            first.setdefault((m.product.sku, m.source.code, m.lot), m)
    if not first:
        return []
    known = uow.exceptions.open_keys(kind.value, list(first))
    return [
        NewException(
            kind=kind.value,
            detail=f"{m.kind} of {m.qty} x {m.product.sku} took {m.source.code} below zero",
            suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
            site=m.source.site_code,
            event_id=m.event_id,
            agent_id=m.agent_id,
            station=m.station,
            order_ref=m.order_ref,
            sku=m.product.sku,
            location=m.source.code,
            lot=m.lot or None,
            qty=m.qty,
            code=m.code,
        )
        for key, m in first.items()
        if key not in known
    ]


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    """How to close an exception. ``link_code`` needs ``sku``; ``adjust`` needs ``sku``,
    ``location`` and a signed ``qty`` (what to add, or take away when negative); ``dismiss``
    needs a ``note``."""

    resolution: Resolution
    principal: str
    note: str | None = None
    sku: str | None = None
    location: str | None = None
    lot: str | None = None
    qty: Decimal | None = None


def resolve(
    uow: ExceptionsUnitOfWork,
    catalog: Catalog,
    exception_id: int,
    request: ResolveRequest,
    now: datetime,
    decode: EventDecoder,
    sites: Callable[[str | None], None] = lambda site: None,
) -> dict[str, object]:
    """Close an open exception with one of its suggested resolutions; return what was done.
    ``sites`` checks the principal may act at the exception's site (raises if not)."""
    with uow:
        catalog.refresh(uow)
        found = uow.exceptions.get(exception_id, lock=True)
        if found is None:
            raise NotFound(f"exception {exception_id} does not exist", field="exception_id")
        sites(found.site)
        if found.status != ExceptionStatus.OPEN:
            raise Conflict(f"exception {exception_id} is {found.status} already", field="status")
        if request.resolution.value not in found.suggestions:
            raise ResolutionRule(
                f"a {found.kind} exception is resolved by {', '.join(found.suggestions)}, "
                f"not {request.resolution}",
                field="resolution",
            )
        done: dict[str, object] = {"resolution": request.resolution.value}
        if request.resolution is Resolution.LINK_CODE:
            done |= _link_code(uow, catalog, found.code, found.event_id, request, now, decode)
        elif request.resolution is Resolution.ADJUST:
            done |= _adjust(uow, catalog, request, now)
        elif request.resolution is Resolution.DISMISS and not request.note:
            raise ResolutionRule("dismissing an exception needs a note saying why", field="note")
        status = (
            ExceptionStatus.DISMISSED
            if request.resolution is Resolution.DISMISS
            else ExceptionStatus.RESOLVED
        )
        uow.exceptions.close(
            exception_id,
            status.value,
            request.resolution.value,
            request.principal,
            request.note,
            now,
        )
        uow.audit.add(
            AuditEntry(
                now,
                request.principal,
                "exception.resolve",
                f"exception:{exception_id}",
                found.site,
                {"status": found.status, "kind": found.kind},
                {"status": status.value, **done, "note": request.note},
            )
        )
        uow.commit()
    return {"status": status.value, **done}


def _link_code(
    uow: ExceptionsUnitOfWork,
    catalog: Catalog,
    code: str | None,
    event_id: str | None,
    request: ResolveRequest,
    now: datetime,
    decode: EventDecoder,
) -> dict[str, object]:
    if not request.sku:
        raise ResolutionRule("link_code needs the sku the code belongs to", field="sku")
    if not code:
        raise ResolutionRule("this exception has no code to link", field="resolution")
    product = uow.products.get(request.sku)
    if product is None:
        raise NotFound(f"sku {request.sku!r} is not a known product", field="sku")
    taken = uow.products.codes_taken([code], product.sku)
    if taken:
        raise Conflict(f"code {code!r} belongs to another product already", field="sku")
    if code not in product.aliases and code not in product.gtins:
        uow.products.update(replace(product, aliases=[*product.aliases, code]))
        uow.catalog_version.bump()
        catalog.refresh(uow)
    applied: list[int] = []
    if event_id:
        body = uow.inbox.bodies([event_id]).get(event_id, (None, None))[1]
        event = decode(body) if body else None
        if event is not None and event.movement is not None:
            source = Provenance(
                event.occurred_at,
                "mqtt",
                event.event_id,
                event.agent_id,
                event.device,
                event.station,
                actor=request.principal,
            )
            try:
                movement = build_movement(uow, catalog, event.movement, source)
            except DomainError as exc:
                raise ResolutionRule(
                    f"the code is linked, and the waiting event still cannot apply: {exc.message}",
                    field="sku",
                ) from exc
            applied = posting.post(uow, [movement], now, enforce=False)
    return {"sku": product.sku, "code": code, "movement_ids": applied}


def _adjust(
    uow: ExceptionsUnitOfWork, catalog: Catalog, request: ResolveRequest, now: datetime
) -> dict[str, object]:
    if not (request.sku and request.location and request.qty):
        raise ResolutionRule("adjust needs sku, location and a non-zero qty", field="qty")
    qty = request.qty
    adding = qty > 0
    movement_request = MovementRequest(
        kind=MovementKind.ADJUST.value,
        qty=abs(qty),
        sku=request.sku,
        lot=request.lot,
        from_location=None if adding else request.location,
        to_location=request.location if adding else None,
    )
    source = Provenance(now, "api", actor=request.principal)
    movement = build_movement(uow, catalog, movement_request, source)
    (movement_id,) = posting.post(uow, [movement], now, enforce=False)
    return {"movement_ids": [movement_id], "sku": request.sku, "qty": qty}
