"""Cycle counts: a count session snapshots the book of a location (and everything under it);
counted quantities come by scan at a counting station, from an RFID sweep, or through the API;
a count goes stale when stock moves in its location meanwhile and must be refreshed; a
manager's approval posts only the variance, against LOSS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, CountRule, DomainError, NotFound
from warehouse.counts.service.ports import CountsUnitOfWork, CountView
from warehouse.exceptions.domain import ExceptionKind
from warehouse.floor.events import FloorEvent
from warehouse.floor.outcome import Outcome, Scan
from warehouse.stock.domain.model import Movement, MovementKind
from warehouse.stock.service import posting
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement, quantity

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CountEntry:
    """A counted quantity: ``qty`` of ``sku`` (and lot) at ``location``."""

    sku: str
    location: str
    qty: Decimal
    lot: str | None = None


def _session(uow: CountsUnitOfWork, ref: str, *, lock: bool) -> CountView:
    found = uow.counts.session(ref, lock=lock)
    if found is None:
        raise NotFound(f"count {ref!r} does not exist", field="ref")
    return found


def start(
    uow: CountsUnitOfWork,
    catalog: Catalog,
    ref: str,
    location: str,
    blind: bool,
    principal: str,
    now: datetime,
) -> None:
    """Open a count of ``location`` and its subtree with the book as it stands now."""
    with uow:
        catalog.refresh(uow)
        place = catalog.location(uow, location, "location")
        if place.site_code is None or place.id is None:
            raise CountRule(f"{location} is virtual; count a physical location", field="location")
        if uow.counts.session(ref, lock=False) is not None:
            raise Conflict(f"count {ref!r} exists already", field="ref")
        session_id = uow.counts.add_session(ref, place.site_code, place.id, blind, principal, now)
        uow.counts.snapshot(session_id, now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "count.start",
                f"count:{ref}",
                place.site_code,
                None,
                {"location": location, "blind": blind},
            )
        )
        uow.commit()


def enter(
    uow: CountsUnitOfWork,
    catalog: Catalog,
    ref: str,
    entries: Sequence[CountEntry],
    principal: str,
    now: datetime,
) -> None:
    """Set counted quantities (each entry replaces what was counted for its key)."""
    with uow:
        catalog.refresh(uow)
        session = _open(uow, ref)
        for n, entry in enumerate(entries):
            product = uow.products.get(entry.sku)
            if product is None or product.id is None:
                raise NotFound(
                    f"entries[{n}].sku {entry.sku!r} is not a known product",
                    field=f"entries[{n}].sku",
                )
            place = catalog.location(uow, entry.location, f"entries[{n}].location")
            assert place.id is not None
            if (session.id, session.ref) not in uow.counts.covering(place.id):
                raise CountRule(
                    f"entries[{n}]: {entry.location} is not under {session.location_code}",
                    field=f"entries[{n}].location",
                )
            uow.counts.set_counted(
                session.id, product.id, place.id, entry.lot or "", entry.qty, add=False
            )
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "count.enter",
                f"count:{ref}",
                session.site,
                None,
                {"entries": [[e.sku, e.location, e.qty] for e in entries]},
            )
        )
        uow.commit()


def _open(uow: CountsUnitOfWork, ref: str) -> CountView:
    session = _session(uow, ref, lock=True)
    if session.status != "open":
        raise Conflict(f"count {ref} is {session.status}", field="ref")
    return session


def refresh(uow: CountsUnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """Take the book again (what was counted stays): the count is current once more."""
    with uow:
        session = _open(uow, ref)
        uow.counts.snapshot(session.id, now)
        uow.audit.add(
            AuditEntry(now, principal, "count.refresh", f"count:{ref}", session.site, None, None)
        )
        uow.commit()


def approve(
    uow: CountsUnitOfWork, catalog: Catalog, ref: str, principal: str, now: datetime
) -> list[int]:
    """Post the variance of every counted line (counted minus book) against LOSS; refused
    while the count is stale. Lines never counted are left as they are."""
    with uow:
        catalog.refresh(uow)
        session = _open(uow, ref)
        if uow.counts.moved_since(session.id):
            raise Conflict(
                f"count {ref} is stale: stock moved in {session.location_code} since its book "
                "was taken; refresh it (and recount what moved) before approving",
                field="ref",
            )
        source = Provenance(now, "api", actor=principal)
        movements: list[Movement] = []
        for line in session.lines:
            if line.counted is None or line.counted == line.book:
                continue
            variance = line.counted - line.book
            gain = variance > 0
            movements.append(
                build_movement(
                    uow,
                    catalog,
                    MovementRequest(
                        kind=MovementKind.ADJUST.value,
                        qty=abs(variance),
                        sku=line.sku,
                        lot=line.lot or None,
                        from_location=None if gain else line.location_code,
                        to_location=line.location_code if gain else None,
                        order_ref=ref,
                    ),
                    source,
                )
            )
        ids = posting.post(uow, movements, now, enforce=False)
        uow.counts.set_status(session.id, "approved", principal, now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "count.approve",
                f"count:{ref}",
                session.site,
                None,
                {"adjustments": len(ids)},
            )
        )
        uow.commit()
    return ids


def count_scans(
    uow: CountsUnitOfWork, catalog: Catalog, events: Sequence[FloorEvent], out: Outcome
) -> None:
    """Scans at a counting station: one unit each, counted in every open count whose
    location covers the scanned one. An unknown code is an exception and an ``error``."""
    if not events or not uow.counts.any_open():
        return
    for event in events:
        scan = event.scan
        assert scan is not None
        if scan.location is None:
            continue
        try:
            place = catalog.location(uow, scan.location, "location")
        except DomainError:
            continue
        assert place.id is not None
        sessions = uow.counts.covering(place.id)
        if not sessions:
            continue
        request = MovementRequest(
            kind="adjust",
            qty=Decimal(1),
            code=scan.code,
            gtin=scan.gtin,
            epc=scan.epc,
            lot=scan.lot,
        )
        seen = Scan(event, None)
        try:
            decoded = catalog.decode(request)
            product = catalog.product(uow, request, decoded)
        except DomainError as exc:
            out.flag(
                ExceptionKind.UNKNOWN_CODE,
                f"counted at {place.code}: {exc.message}",
                seen,
                location=place.code,
                code=scan.code,
            )
            out.tell(seen, "error", exc.message)
            continue
        assert product.id is not None
        lot = scan.lot or (decoded.parsed.lot if decoded.parsed else None) or ""
        counted = quantity(product, request, decoded)  # a case's code counts the case
        for session_id, ref in sessions:
            total = uow.counts.set_counted(session_id, product.id, place.id, lot, counted, add=True)
            out.tell(seen, "ok", f"{ref}: {total} x {product.sku} at {place.code}")


def count_sweeps(
    uow: CountsUnitOfWork,
    catalog: Catalog,
    sweeps: Sequence[tuple[FloorEvent, int, str]],
) -> None:
    """An RFID sweep (a location's full set of tags) counts the tagged units it saw in every
    open count covering the location: per product and lot, the number of its units seen."""
    if not sweeps or not uow.counts.any_open():
        return
    for event, location_id, _code in sweeps:
        sessions = uow.counts.covering(location_id)
        observation = event.observation
        if not sessions or observation is None or observation.snapshot is None:
            continue
        per: Counter[tuple[int, str]] = Counter()
        for epc in observation.snapshot:
            parsed = catalog.epc_parser(epc) if catalog.epc_parser else None
            binary = parsed.hex if parsed else epc.upper()  # a pure identity URN has none
            unit = uow.units.by_epc(binary) if binary else None
            product = catalog.by_gtin(uow, parsed.gtin) if parsed and parsed.gtin else None
            if unit is None and product is not None and product.id is not None and parsed:
                unit = uow.units.find(product.id, parsed.serial, None) if parsed.serial else None
            if unit is not None:
                per[(unit.product_id, unit.lot)] += 1
            elif product is not None and product.id is not None:
                per[(product.id, "")] += 1
        for session_id, _ in sessions:
            for (product_id, lot), n in per.items():
                uow.counts.set_counted(
                    session_id, product_id, location_id, lot, Decimal(n), add=False
                )
