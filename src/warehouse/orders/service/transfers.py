"""Transfers: stock moved between locations of a site at once, or between sites through the
TRANSIT location: shipped out of the source, received at the destination, and whatever
arrives other than it left is a ``transfer_discrepancy`` exception."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound, OrderRule
from warehouse.exceptions.domain import ExceptionKind
from warehouse.orders.service.ports import OrdersUnitOfWork, TransferView
from warehouse.orders.service.receiving import LineRequest, order_lines
from warehouse.orders.service.reconcile import Reconciled
from warehouse.stock.domain.model import Movement, MovementKind
from warehouse.stock.service import posting
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    ref: str
    from_location: str
    to_location: str
    lines: Sequence[LineRequest]
    principal: str = "system"


def create(
    uow: OrdersUnitOfWork, catalog: Catalog, request: TransferRequest, now: datetime
) -> None:
    """Record a transfer; nothing moves until it ships."""
    with uow:
        catalog.refresh(uow)
        source = catalog.location(uow, request.from_location, "from_location")
        target = catalog.location(uow, request.to_location, "to_location")
        if source.site_code is None or target.site_code is None:
            raise OrderRule(
                "a transfer is between physical locations",
                field="from_location" if source.site_code is None else "to_location",
            )
        if source.code == target.code:
            raise OrderRule("from_location and to_location are the same", field="to_location")
        if not request.lines:
            raise OrderRule("a transfer has at least one line", field="lines")
        if uow.transfers.get(request.ref, lock=False) is not None:
            raise Conflict(f"transfer {request.ref!r} exists already", field="ref")
        lines = order_lines(uow, request.lines, "lines")
        assert source.id is not None
        assert target.id is not None
        uow.transfers.add(
            request.ref,
            source.site_code,
            target.site_code,
            source.id,
            target.id,
            lines,
            request.principal,
            now,
        )
        uow.audit.add(
            AuditEntry(
                now,
                request.principal,
                "transfer.create",
                f"transfer:{request.ref}",
                source.site_code,
                None,
                {
                    "from": source.code,
                    "to": target.code,
                    "lines": [[x.sku, x.qty] for x in request.lines],
                },
            )
        )
        uow.commit()


def _get(uow: OrdersUnitOfWork, ref: str) -> TransferView:
    found = uow.transfers.get(ref, lock=True)
    if found is None:
        raise NotFound(f"transfer {ref!r} does not exist", field="ref")
    return found


def _movements(
    uow: OrdersUnitOfWork,
    catalog: Catalog,
    transfer: TransferView,
    source: str,
    target: str,
    quantities: Mapping[int, Decimal],
    principal: str,
    now: datetime,
) -> list[Movement]:
    out = []
    for line in transfer.lines:
        qty = quantities.get(line.line_no, ZERO)
        if qty > 0:
            out.append(
                build_movement(
                    uow,
                    catalog,
                    MovementRequest(
                        kind=MovementKind.TRANSFER.value,
                        qty=qty,
                        sku=line.sku,
                        lot=line.lot or None,
                        from_location=source,
                        to_location=target,
                        order_ref=transfer.ref,
                    ),
                    Provenance(now, "api", actor=principal),
                )
            )
    return out


def ship(uow: OrdersUnitOfWork, catalog: Catalog, ref: str, principal: str, now: datetime) -> str:
    """Move the lines out of the source: straight to the destination within a site (the
    transfer is received), into TRANSIT between sites. Refused if it would oversell."""
    with uow:
        catalog.refresh(uow)
        transfer = _get(uow, ref)
        if transfer.status != "draft":
            raise Conflict(f"transfer {ref} is {transfer.status}", field="ref")
        local = transfer.from_site == transfer.to_site
        target = transfer.to_location if local else "TRANSIT"
        quantities = {line.line_no: line.qty for line in transfer.lines}
        movements = _movements(
            uow, catalog, transfer, transfer.from_location, target, quantities, principal, now
        )
        posting.post(uow, movements, now, enforce=True)
        for line in transfer.lines:
            values = {"shipped": line.qty}
            if local:
                values["received"] = line.qty
            uow.transfers.update_line(transfer.id, line.line_no, **values)
        status = "received" if local else "in_transit"
        uow.transfers.set_status(transfer.id, status, now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "transfer.ship",
                f"transfer:{ref}",
                transfer.from_site,
                {"status": "draft"},
                {"status": status},
            )
        )
        uow.commit()
    return status


def receive(
    uow: OrdersUnitOfWork,
    catalog: Catalog,
    ref: str,
    counted: Mapping[str, Decimal] | None,
    principal: str,
    now: datetime,
) -> int:
    """Receive an in-transit transfer at its destination: what was counted per SKU (or, when
    nothing is given, everything shipped) moves out of TRANSIT; each line that arrived short
    or over is an exception. Returns how many lines differed."""
    with uow:
        catalog.refresh(uow)
        transfer = _get(uow, ref)
        if transfer.status != "in_transit":
            raise Conflict(
                f"transfer {ref} is {transfer.status}; only one in transit can be received",
                field="ref",
            )
        skus = {line.sku for line in transfer.lines}
        unknown = sorted(set(counted or {}) - skus)
        if unknown:
            raise OrderRule(f"{', '.join(unknown)} is not on transfer {ref}", field="lines")
        arrived = _arrived(transfer, counted)
        movements = _movements(
            uow, catalog, transfer, "TRANSIT", transfer.to_location, arrived, principal, now
        )
        posting.post(uow, movements, now, enforce=False)
        out = Reconciled()
        for line in transfer.lines:
            got = arrived[line.line_no]
            uow.transfers.update_line(transfer.id, line.line_no, received=got)
            if got != line.shipped:
                out.flag(
                    ExceptionKind.TRANSFER_DISCREPANCY,
                    f"{ref} line {line.line_no}: {got} of {line.shipped} x {line.sku} "
                    f"arrived at {transfer.to_location}",
                    site=transfer.to_site,
                    order_ref=ref,
                    sku=line.sku,
                    location=transfer.to_location,
                    lot=line.lot or None,
                    qty=line.shipped - got,
                )
        uow.exceptions.add(out.exceptions, now)
        uow.transfers.set_status(transfer.id, "received", now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "transfer.receive",
                f"transfer:{ref}",
                transfer.to_site,
                {"status": "in_transit"},
                {"status": "received", "discrepancies": len(out.exceptions)},
            )
        )
        uow.commit()
    return len(out.exceptions)


def _arrived(transfer: TransferView, counted: Mapping[str, Decimal] | None) -> dict[int, Decimal]:
    """Line number -> what arrived: everything shipped when nothing was counted; else what was
    counted per SKU, filling its lines in order (the last line of a SKU takes any excess)."""
    left = dict(counted) if counted is not None else None
    arrived: dict[int, Decimal] = {}
    for line in transfer.lines:
        if left is None:
            arrived[line.line_no] = line.shipped
        else:
            take = min(left.get(line.sku, ZERO), line.shipped)
            if line is [x for x in transfer.lines if x.sku == line.sku][-1]:
                take = left.get(line.sku, ZERO)
            arrived[line.line_no] = take
            left[line.sku] = left.get(line.sku, ZERO) - take
    return arrived
