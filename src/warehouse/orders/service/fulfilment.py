"""Sales orders: created, confirmed (stock reserved FEFO or FIFO, short lines backordered or
the whole refused), cancelled, and released when their hold runs out. Picking by scan is in
picking.py, packing and shipping in shipping.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, InsufficientStock, NotFound, OrderRule
from warehouse.orders import domain as orders
from warehouse.orders.domain import SalesStatus, Shortage
from warehouse.orders.service.ports import (
    NewAllocation,
    NewSalesOrder,
    OrdersUnitOfWork,
    SalesLineView,
    SalesOrderView,
)
from warehouse.orders.service.receiving import LineRequest, order_lines, partner_for, require_site
from warehouse.stock.domain.allocation import Bin, allocate
from warehouse.stock.domain.model import StockKey

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SalesOrderRequest:
    ref: str
    site: str
    customer: str
    lines: Sequence[LineRequest]
    requested_date: date | None = None
    shortage: Shortage = Shortage.BACKORDER
    reserve_minutes: int | None = None
    principal: str = "system"
    partner: str | None = None  # the customer's partner code (its name is the customer's)


def create_sales_order(uow: OrdersUnitOfWork, request: SalesOrderRequest, now: datetime) -> int:
    """Record a draft sales order; nothing is reserved until it is confirmed."""
    with uow:
        require_site(uow, request.site)
        if not request.lines:
            raise OrderRule("a sales order has at least one line", field="lines")
        if uow.orders.sales_order(request.ref, lock=False) is not None:
            raise Conflict(f"sales order {request.ref!r} exists already", field="ref")
        lines = order_lines(uow, request.lines, "lines")
        partner = partner_for(uow, request.partner, "customer")
        order_id = uow.orders.add_sales_order(
            NewSalesOrder(
                request.ref,
                request.site,
                request.customer or (partner.name if partner else ""),
                request.requested_date,
                request.shortage.value,
                request.reserve_minutes,
                lines,
                partner.id if partner else None,
            ),
            request.principal,
            now,
        )
        uow.audit.add(
            AuditEntry(
                now,
                request.principal,
                "sales_order.create",
                f"sales_order:{request.ref}",
                request.site,
                None,
                {"customer": request.customer, "lines": [[x.sku, x.qty] for x in request.lines]},
            )
        )
        uow.commit()
    return order_id


def order_or_404(uow: OrdersUnitOfWork, ref: str, *, lock: bool) -> SalesOrderView:
    order = uow.orders.sales_order(ref, lock=lock)
    if order is None:
        raise NotFound(f"sales order {ref!r} does not exist", field="ref")
    return order


def confirm(uow: OrdersUnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """Reserve stock for every line: available drops, on hand does not. Lots past their expiry
    are not reserved.

    Stock rows of each product at the order's site are locked (in product order) while they are
    read and reserved, so concurrent confirmations never reserve more than there is. Short
    stock is backordered, or refuses the whole confirmation under the ``refuse`` policy."""
    with uow:
        order = order_or_404(uow, ref, lock=True)
        if order.status not in (SalesStatus.DRAFT, SalesStatus.EXPIRED):
            raise Conflict(
                f"sales order {ref} is {order.status}; only a draft or expired order "
                "can be confirmed",
                field="ref",
            )
        plans = _plan(uow, order, now.date())
        deltas, rows = _allocations(uow, order, plans)
        uow.orders.add_allocations(order.id, rows)
        uow.orders.reserve(deltas, now)
        until = now + timedelta(minutes=order.reserve_minutes) if order.reserve_minutes else None
        uow.orders.update_sales_order(
            order.id, now, status=SalesStatus.CONFIRMED.value, reserved_until=until
        )
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "sales_order.confirm",
                f"sales_order:{ref}",
                order.site,
                {"status": order.status},
                {"status": "confirmed", "reserved": sum(deltas.values(), ZERO)},
            )
        )
        uow.commit()


#: Per order line: its id, product, the bins and quantities it takes, and what stays short.
Plan = tuple[int, int, list[tuple[Bin, Decimal]], Decimal]


def _plan(uow: OrdersUnitOfWork, order: SalesOrderView, today: date) -> list[Plan]:
    """What each line takes from which bins (first expiry, else first in; never a lot past its
    expiry), in product order, each line seeing what the lines before it took; short stock
    refuses the whole order under the ``refuse`` policy."""
    plans: list[Plan] = []
    taken_here: dict[tuple[int, int, str], Decimal] = {}
    for n, line in sorted(enumerate(order.lines), key=lambda nl: nl[1].product_id):
        product = uow.products.by_id(line.product_id)
        assert product is not None
        bins = [
            replace(
                b,
                available=b.available
                - taken_here.get((line.product_id, b.location_id, b.lot), ZERO),
            )
            for b in uow.orders.bins(line.product_id, order.site, lock=True)
            if not b.expired(today)
        ]
        wanted = line.qty - line.picked - line.reserved
        taken, short = allocate(wanted, bins, fefo=any(b.expiry for b in bins))
        if short > 0 and order.shortage == Shortage.REFUSE:
            available = sum((b.available for b in bins if b.available > 0), ZERO)
            error = InsufficientStock(line.sku, order.site, "", available, wanted)
            error.message = (
                f"lines[{n}]: {line.sku} is short by {short} at {order.site} "
                f"({available} available, {wanted} ordered)"
            )
            error.field = f"lines[{n}].qty"
            error.args = (error.message,)
            raise error
        for b, qty in taken:
            key = (line.product_id, b.location_id, b.lot)
            taken_here[key] = taken_here.get(key, ZERO) + qty
        plans.append((line.id, line.product_id, taken, short))
    return plans


def _allocations(
    uow: OrdersUnitOfWork, order: SalesOrderView, plans: list[Plan]
) -> tuple[dict[StockKey, Decimal], list[NewAllocation]]:
    """The pick tasks the plans make and what they reserve per stock row; each line's reserved
    and backordered quantities updated."""
    deltas: dict[StockKey, Decimal] = {}
    rows = []
    for line_id, product_id, taken, short in plans:
        for b, qty in taken:
            rows.append(NewAllocation(line_id, product_id, b.location_id, b.lot, qty))
            key = StockKey(product_id, b.location_id, b.lot)
            deltas[key] = deltas.get(key, ZERO) + qty
        line = next(x for x in order.lines if x.id == line_id)
        uow.orders.update_line(
            line_id,
            reserved=line.reserved + sum((q for _, q in taken), ZERO),
            backordered=short,
        )
    return deltas, rows


def _release(uow: OrdersUnitOfWork, order: SalesOrderView, now: datetime) -> Decimal:
    """Give back what is reserved and not yet picked; return how much."""
    deltas: dict[StockKey, Decimal] = {}
    for row in uow.orders.allocations(order.id, lock=True):
        task = row.task
        if task.qty > 0:
            key = StockKey(task.product_id, task.location_id, task.lot)
            deltas[key] = deltas.get(key, ZERO) - task.qty
            uow.orders.update_allocation(task.id, qty=ZERO)
    for line in order.lines:
        if line.reserved:
            uow.orders.update_line(line.id, reserved=ZERO)
    uow.orders.reserve(deltas, now)
    return -sum(deltas.values(), ZERO)


def cancel(uow: OrdersUnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """Cancel an order that has nothing picked: its reservations are released."""
    with uow:
        order = order_or_404(uow, ref, lock=True)
        if order.status in (SalesStatus.CANCELLED, SalesStatus.SHIPPED):
            raise Conflict(f"sales order {ref} is {order.status}", field="ref")
        if any(line.picked > line.shipped for line in order.lines):
            raise Conflict(
                f"sales order {ref} has picked goods waiting; ship or return them to stock first",
                field="ref",
            )
        released = _release(uow, order, now)
        uow.orders.update_sales_order(
            order.id, now, status=SalesStatus.CANCELLED.value, reserved_until=None
        )
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "sales_order.cancel",
                f"sales_order:{ref}",
                order.site,
                {"status": order.status},
                {"status": "cancelled", "released": released},
            )
        )
        uow.commit()


def release_expired(uow: OrdersUnitOfWork, now: datetime, limit: int = 100) -> list[str]:
    """Release the reservations of confirmed orders past their hold (nothing picked stays
    held; picked goods stay reserved for their order); return the orders released."""
    released = []
    with uow:
        for ref in uow.orders.expired_orders(now, limit):
            order = order_or_404(uow, ref, lock=True)
            if (
                order.status != SalesStatus.CONFIRMED
                or order.reserved_until is None
                or (order.reserved_until > now)
            ):
                continue  # confirmed again, or picked, since it was listed
            qty = _release(uow, order, now)
            uow.orders.update_sales_order(
                order.id, now, status=SalesStatus.EXPIRED.value, reserved_until=None
            )
            uow.audit.add(
                AuditEntry(
                    now,
                    "system:reservations",
                    "sales_order.expire",
                    f"sales_order:{ref}",
                    order.site,
                    {"status": order.status},
                    {"status": "expired", "released": qty},
                )
            )
            released.append(ref)
        uow.commit()
    return released


def current_status(uow: OrdersUnitOfWork, ref: str) -> SalesStatus:
    return status_of(order_or_404(uow, ref, lock=False).lines)


def status_of(lines: Sequence[SalesLineView]) -> SalesStatus:
    total = {
        name: sum((getattr(x, name) for x in lines), ZERO)
        for name in ("qty", "reserved", "picked", "packed", "shipped")
    }
    return orders.sales_status(
        total["qty"], total["reserved"], total["picked"], total["packed"], total["shipped"]
    )
