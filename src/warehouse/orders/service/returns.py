"""Returns (RMA) against a sales order: what comes back arrives at a returns location, and each
line's disposition moves it on (restock, quarantine) or writes it off (scrap). Never more of a
line than was shipped and not yet returned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound, OrderRule
from warehouse.orders.service.ports import (
    OrdersUnitOfWork,
    ReturnLine,
    SalesLineView,
    SalesOrderView,
)
from warehouse.stock.domain.model import Movement, MovementKind
from warehouse.stock.service import posting
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

ZERO = Decimal(0)


class Disposition(StrEnum):
    """What becomes of a returned line."""

    RESTOCK = "restock"  # back to sellable stock (the returns location, or ``to_location``)
    QUARANTINE = "quarantine"  # held apart until inspected (``to_location``)
    SCRAP = "scrap"  # written off to LOSS


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    sku: str
    qty: Decimal
    disposition: Disposition
    lot: str | None = None
    to_location: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    ref: str
    order_ref: str
    location: str  # where returns arrive
    lines: Sequence[ReturnLineRequest]
    principal: str = "system"


def record_return(
    uow: OrdersUnitOfWork, catalog: Catalog, request: ReturnRequest, now: datetime
) -> list[int]:
    """Record a return and post its movements; return their ledger ids."""
    with uow:
        catalog.refresh(uow)
        order = uow.orders.sales_order(request.order_ref, lock=True)
        if order is None:
            raise NotFound(f"sales order {request.order_ref!r} does not exist", field="order_ref")
        if uow.orders.return_exists(request.ref):
            raise Conflict(f"return {request.ref!r} exists already", field="ref")
        if not request.lines:
            raise OrderRule("a return has at least one line", field="lines")
        arrival = catalog.location(uow, request.location, "location")
        if arrival.site_code != order.site:
            raise OrderRule(
                f"location {arrival.code!r} is not a location of {order.site}", field="location"
            )
        asked: dict[int, Decimal] = {}
        movements: list[Movement] = []
        rows: list[ReturnLine] = []
        source = Provenance(now, "api", actor=request.principal)
        for n, line in enumerate(request.lines):
            ordered = _returnable(order, line, n, asked)
            asked[ordered.id] = asked.get(ordered.id, ZERO) + line.qty
            moved = _movements(uow, catalog, order.ref, line, arrival.code, f"lines[{n}]", source)
            movements += moved
            back, to = moved[0], moved[-1].destination
            assert back.product.id is not None
            rows.append(
                ReturnLine(
                    ordered.id, back.product.id, back.lot, line.qty, line.disposition.value, to.id
                )
            )
        ids = posting.post(uow, movements, now, enforce=False)
        for line_id, qty in asked.items():
            current = next(x for x in order.lines if x.id == line_id)
            uow.orders.update_line(line_id, returned=current.returned + qty)
        uow.orders.add_return(
            request.ref, order.site, order.id, arrival.id or 0, rows, request.principal, now
        )
        uow.audit.add(
            AuditEntry(
                now,
                request.principal,
                "return.record",
                f"return:{request.ref}",
                order.site,
                None,
                {
                    "order": order.ref,
                    "lines": [[x.sku, x.qty, x.disposition.value] for x in request.lines],
                },
            )
        )
        uow.commit()
    return ids


def _returnable(
    order: SalesOrderView, line: ReturnLineRequest, n: int, asked: dict[int, Decimal]
) -> SalesLineView:
    """The order line ``line`` returns, if it may return that much (what shipped, less what
    came back before and what earlier lines of this return take)."""
    where = f"lines[{n}]"
    ordered = next((x for x in order.lines if x.sku == line.sku), None)
    if ordered is None:
        raise OrderRule(f"{where}: {line.sku} is not on {order.ref}", field=f"{where}.sku")
    returnable = ordered.shipped - ordered.returned - asked.get(ordered.id, ZERO)
    if line.qty > returnable:
        raise OrderRule(
            f"{where}: {returnable} x {line.sku} can be returned ({ordered.shipped} "
            f"shipped, {ordered.returned} returned before), not {line.qty}",
            field=f"{where}.qty",
        )
    return ordered


def _movements(
    uow: OrdersUnitOfWork,
    catalog: Catalog,
    order_ref: str,
    line: ReturnLineRequest,
    arrival: str,
    where: str,
    source: Provenance,
) -> list[Movement]:
    """A returned line's movements: from the customer to the arrival location, and onward
    where its disposition sends it (restock, quarantine, scrap)."""

    def move(kind: MovementKind, from_code: str, to_code: str | None) -> Movement:
        request = MovementRequest(
            kind=kind.value,
            qty=line.qty,
            sku=line.sku,
            lot=line.lot,
            from_location=from_code,
            to_location=to_code,
            order_ref=order_ref,
        )
        return build_movement(uow, catalog, request, source)

    moved = [move(MovementKind.RETURN, "CUSTOMER", arrival)]
    onward = _disposition(line, arrival, where)
    if onward is not None:
        moved.append(move(onward[0], arrival, onward[1]))
    return moved


def _disposition(
    line: ReturnLineRequest, arrival: str, where: str
) -> tuple[MovementKind, str | None] | None:
    """The movement after the arrival, if any: (kind, destination)."""
    if line.disposition is Disposition.SCRAP:
        return MovementKind.ADJUST, "LOSS"
    if line.disposition is Disposition.QUARANTINE and not line.to_location:
        raise OrderRule(f"{where}: quarantine needs a to_location", field=f"{where}.to_location")
    if line.to_location and line.to_location != arrival:
        return MovementKind.TRANSFER, line.to_location
    return None
