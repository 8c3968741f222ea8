"""Sales orders: confirmation reserves stock (FEFO or FIFO), reservations expire by
themselves, picks by scan settle pick tasks (or are refused as exceptions), packing puts picked
goods in a package under a new SSCC, and shipping the package moves them to the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from warehouse.domain import orders
from warehouse.domain.errors import (
    Conflict,
    DomainError,
    InsufficientStock,
    NotFound,
    RuleViolation,
)
from warehouse.domain.exceptions import ExceptionKind
from warehouse.domain.model import Movement, MovementKind, StockKey
from warehouse.domain.orders import RESERVING, SalesStatus, Shortage
from warehouse.service_layer import posting
from warehouse.service_layer.commands import FloorEvent, MovementRequest
from warehouse.service_layer.ports import AuditEntry, UnitOfWork
from warehouse.service_layer.ports_orders import (
    AllocationRow,
    NewAllocation,
    NewSalesOrder,
    PackageLine,
    PackageView,
    SalesLineView,
    SalesOrderView,
)
from warehouse.service_layer.receiving import LineRequest, order_lines, require_site
from warehouse.service_layer.reconcile import Reconciled, Scan
from warehouse.service_layer.resolve import Catalog

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


@dataclass(frozen=True, slots=True)
class SsccSeries:
    """Where a site's SSCCs come from: its GS1 company prefix and extension digit."""

    company_prefix: str
    extension: int = 0


def create_sales_order(uow: UnitOfWork, request: SalesOrderRequest, now: datetime) -> int:
    """Record a draft sales order; nothing is reserved until it is confirmed."""
    with uow:
        require_site(uow, request.site)
        if not request.lines:
            raise RuleViolation("a sales order has at least one line", field="lines")
        if uow.orders.sales_order(request.ref, lock=False) is not None:
            raise Conflict(f"sales order {request.ref!r} exists already", field="ref")
        lines = order_lines(uow, request.lines, "lines")
        order_id = uow.orders.add_sales_order(
            NewSalesOrder(
                request.ref,
                request.site,
                request.customer,
                request.requested_date,
                request.shortage.value,
                request.reserve_minutes,
                lines,
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


def _order(uow: UnitOfWork, ref: str, *, lock: bool) -> SalesOrderView:
    order = uow.orders.sales_order(ref, lock=lock)
    if order is None:
        raise NotFound(f"sales order {ref!r} does not exist", field="ref")
    return order


def confirm(uow: UnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """Reserve stock for every line: available drops, on hand does not.

    Stock rows of each product at the order's site are locked (in product order) while they are
    read and reserved, so concurrent confirmations never reserve more than there is. Short
    stock is backordered, or refuses the whole confirmation under the ``refuse`` policy."""
    with uow:
        order = _order(uow, ref, lock=True)
        if order.status not in (SalesStatus.DRAFT, SalesStatus.EXPIRED):
            raise Conflict(
                f"sales order {ref} is {order.status}; only a draft or expired order "
                "can be confirmed",
                field="ref",
            )
        plans: list[tuple[int, int, list[tuple[orders.Bin, Decimal]], Decimal]] = []
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
            ]
            wanted = line.qty - line.picked - line.reserved
            taken, short = orders.allocate(wanted, bins, fefo=any(b.expiry for b in bins))
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


def _release(uow: UnitOfWork, order: SalesOrderView, now: datetime) -> Decimal:
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


def cancel(uow: UnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """Cancel an order that has nothing picked: its reservations are released."""
    with uow:
        order = _order(uow, ref, lock=True)
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


def release_expired(uow: UnitOfWork, now: datetime, limit: int = 100) -> list[str]:
    """Release the reservations of confirmed orders past their hold (nothing picked stays
    held; picked goods stay reserved for their order); return the orders released."""
    released = []
    with uow:
        for ref in uow.orders.expired_orders(now, limit):
            order = _order(uow, ref, lock=True)
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


def _status(uow: UnitOfWork, ref: str) -> SalesStatus:
    return _status_of(_order(uow, ref, lock=False).lines)


def _status_of(lines: Sequence[SalesLineView]) -> SalesStatus:
    total = {
        name: sum((getattr(x, name) for x in lines), ZERO)
        for name in ("qty", "reserved", "picked", "packed", "shipped")
    }
    return orders.sales_status(
        total["qty"], total["reserved"], total["picked"], total["packed"], total["shipped"]
    )


def pick_scans(uow: UnitOfWork, scans: Sequence[Scan], out: Reconciled, now: datetime) -> None:
    """Picks scanned against a sales order settle its pick tasks: the goods stay reserved
    where the pick put them. A pick that settles none (wrong item, wrong location or lot,
    more than is left) is not posted: it is an exception and an ``error`` to the station.
    A pick naming no sales order is a plain movement, as before orders existed.

    Orders are read (and locked) once per batch and written back once: a pick station
    scanning fast costs a few statements per batch, not per scan."""
    if not scans:
        return
    refs = sorted({s.movement.order_ref for s in scans if s.movement and s.movement.order_ref})
    found = uow.orders.sales_orders(refs, lock=True)
    tasks = uow.orders.allocations_of([o.id for o in found.values()], lock=True)
    picking = {ref: _Picking(o, tasks.get(o.id, [])) for ref, o in found.items()}
    for scan in scans:
        movement = scan.movement
        assert movement is not None
        state = picking.get(movement.order_ref or "")
        if state is not None:
            state.pick(scan, movement, out)
    rows: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for state in picking.values():
        state.store(uow, now, rows, lines)
    uow.orders.update_allocations(rows)
    uow.orders.update_lines(lines)


class _Picking:
    """One order's lines and pick tasks while a batch's picks settle them."""

    def __init__(self, order: SalesOrderView, rows: list[AllocationRow]) -> None:
        self.order = order
        self.lines = {line.id: line for line in order.lines}
        self.rows = {row.task.id: row for row in rows}
        self.changed_rows: set[int] = set()
        self.changed_lines: set[int] = set()

    def pick(self, scan: Scan, movement: Movement, out: Reconciled) -> None:
        ref, product, source = self.order.ref, movement.product, movement.source
        assert product.id is not None
        assert source.id is not None
        if self.order.status not in RESERVING:
            self._refuse(
                scan,
                movement,
                out,
                ExceptionKind.WRONG_ITEM,
                f"{ref} is {self.order.status}; nothing to pick",
            )
            return
        tasks = [row.task for row in self.rows.values()]
        plan = orders.plan_pick(
            ref, tasks, product.id, product.sku, source.id, source.code, movement.lot, movement.qty
        )
        if isinstance(plan, orders.PickRefused):
            self._refuse(scan, movement, out, ExceptionKind(plan.problem.value), plan.text)
            return
        destination = movement.destination
        assert destination.id is not None
        line_id = 0
        for task, qty in plan:
            row = self.rows[task.id]
            out.reserve(StockKey(product.id, task.location_id, task.lot), -qty)
            out.reserve(StockKey(product.id, destination.id, movement.lot or task.lot), qty)
            line_id = task.line_id
            line = self.lines[line_id]
            self.lines[line_id] = line = replace(
                line, reserved=line.reserved - qty, picked=line.picked + qty
            )
            self.rows[task.id] = AllocationRow(
                replace(task, qty=task.qty - qty),
                row.picked + qty,
                destination.id,
                row.staged + qty,
                row.packed,
            )
            self.changed_rows.add(task.id)
            self.changed_lines.add(line_id)
        for task_id, row in self.rows.items():  # every task of the line sees its new total
            if row.task.line_id == line_id:
                picked = self.lines[line_id].picked
                self.rows[task_id] = replace(row, task=replace(row.task, line_picked=picked))
        line = self.lines[line_id]
        out.tell(scan, "ok", orders.pick_text(ref, line.line_no, line.picked, line.qty))

    def _refuse(
        self, scan: Scan, movement: Movement, out: Reconciled, kind: ExceptionKind, text: str
    ) -> None:
        out.refused.add(scan.event.event_id)
        out.flag(kind, text, scan, location=movement.source.code, qty=movement.qty)
        out.tell(scan, "error", text)

    def store(
        self,
        uow: UnitOfWork,
        now: datetime,
        rows: list[dict[str, Any]],
        lines: list[dict[str, Any]],
    ) -> None:
        """Collect the changed tasks and lines (written for every order at once) and write
        the order's new status."""
        for task_id in sorted(self.changed_rows):
            row = self.rows[task_id]
            rows.append(
                {
                    "id": task_id,
                    "qty": row.task.qty,
                    "picked": row.picked,
                    "staged": row.staged,
                    "staged_location_id": row.staged_location_id,
                }
            )
        for line_id in sorted(self.changed_lines):
            line = self.lines[line_id]
            lines.append({"id": line_id, "reserved": line.reserved, "picked": line.picked})
        if self.changed_lines:
            status = _status_of(tuple(self.lines.values()))
            uow.orders.update_sales_order(self.order.id, now, status=status.value)


def pack_scans(
    uow: UnitOfWork, catalog: Catalog, events: Sequence[FloorEvent], out: Reconciled
) -> None:
    """Items scanned at a packing station against an order: checked against what was picked
    for it and waits to be packed (no stock moves); the station hears ``ok`` with how the
    product stands, or ``error`` — a product not on the order is a ``wrong_item`` too."""
    if not events:
        return
    refs = sorted({e.scan.order_ref for e in events if e.scan and e.scan.order_ref})
    found = uow.orders.sales_orders(refs, lock=False)
    tasks = uow.orders.allocations_of([o.id for o in found.values()], lock=False)
    for event in events:
        scan = event.scan
        assert scan is not None
        assert scan.order_ref is not None
        seen = Scan(event, None)
        order = found.get(scan.order_ref)
        if order is None:
            out.tell(seen, "error", f"{scan.order_ref} is not a sales order")
            continue
        request = MovementRequest(
            kind="adjust",
            qty=Decimal(1),
            code=scan.code,
            gtin=scan.gtin,
            epc=scan.epc,
            lot=scan.lot,
        )
        try:
            product = catalog.product(uow, request, catalog.decode(request))
        except DomainError as exc:
            out.flag(
                ExceptionKind.UNKNOWN_CODE,
                f"packing {order.ref}: {exc.message}",
                seen,
                order_ref=order.ref,
                location=scan.location,
                code=scan.code,
            )
            out.tell(seen, "error", exc.message)
            continue
        rows = [r for r in tasks.get(order.id, []) if r.task.product_id == product.id]
        waiting = sum((r.staged - r.packed for r in rows), ZERO)
        if not rows:
            text = f"{product.sku} is not on {order.ref}"
            out.flag(
                ExceptionKind.WRONG_ITEM,
                f"packing: {text}",
                seen,
                order_ref=order.ref,
                sku=product.sku,
                location=scan.location,
                code=scan.code,
            )
            out.tell(seen, "error", text)
        elif waiting <= 0:
            out.tell(seen, "error", f"{order.ref}: no {product.sku} picked and waiting to pack")
        else:
            out.tell(seen, "ok", f"{order.ref}: {product.sku}, {waiting} picked to pack")


def pack(uow: UnitOfWork, ref: str, series: SsccSeries, principal: str, now: datetime) -> str:
    """Put everything picked for the order and not yet packed into a new package; return its
    SSCC (the site's next serial reference under its company prefix, with its check digit)."""
    with uow:
        order = _order(uow, ref, lock=True)
        if order.status not in RESERVING:
            raise Conflict(f"sales order {ref} is {order.status}; nothing to pack", field="ref")
        rows = [r for r in uow.orders.allocations(order.id, lock=True) if r.staged > r.packed]
        if not rows:
            raise Conflict(
                f"sales order {ref} has nothing picked that is not packed yet", field="ref"
            )
        serial = uow.orders.next_sscc_ref(order.site, series.company_prefix)
        sscc = orders.make_sscc(series.extension, series.company_prefix, serial)
        contents = [
            PackageLine(
                r.task.product_id,
                r.staged - r.packed,
                r.task.lot,
                allocation_id=r.task.id,
                location_id=r.staged_location_id,
            )
            for r in rows
        ]
        uow.orders.add_package(
            sscc, order.site, "outbound", "packed", contents, now, sales_order_id=order.id
        )
        lines: dict[int, Decimal] = {}
        for r in rows:
            uow.orders.update_allocation(r.task.id, packed=r.staged)
            lines[r.task.line_id] = lines.get(r.task.line_id, ZERO) + r.staged - r.packed
        for line in order.lines:
            if line.id in lines:
                uow.orders.update_line(line.id, packed=line.packed + lines[line.id])
        short = Reconciled()
        for line in order.lines:  # packed while reserved stock is still unpicked: under-picked
            if line.reserved > 0:
                short.flag(
                    ExceptionKind.UNDER_PICK,
                    f"{ref} line {line.line_no}: packed with {line.reserved} x "
                    f"{line.sku} reserved and not picked",
                    site=order.site,
                    order_ref=ref,
                    sku=line.sku,
                    qty=line.reserved,
                )
        uow.exceptions.add(short.exceptions, now)
        uow.orders.update_sales_order(order.id, now, status=_status(uow, ref).value)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "package.pack",
                f"package:{sscc}",
                order.site,
                None,
                {"order": ref, "lines": len(contents)},
            )
        )
        uow.commit()
    return sscc


def ship_package(
    uow: UnitOfWork,
    catalog: Catalog,
    package: PackageView,
    out: Reconciled,
    scan: Scan | None,
    now: datetime,
) -> list[Movement]:
    """The package's contents move to the customer; its order counts them shipped and their
    reservation ends. Returns the movements (the caller posts them)."""
    assert package.order_ref is not None
    order = _order(uow, package.order_ref, lock=True)
    customer = catalog.location(uow, "CUSTOMER", "to_location")
    rows = {r.task.id: r for r in uow.orders.allocations(order.id, lock=True)}
    movements = []
    lines: dict[int, Decimal] = {}
    for item in package.lines:
        assert item.allocation_id is not None
        assert item.location_id is not None
        product = uow.products.by_id(item.product_id)
        source = uow.locations.by_id(item.location_id)
        assert product is not None
        assert source is not None
        event = scan.event if scan else None
        movements.append(
            Movement(
                kind=MovementKind.SHIP,
                product=product,
                qty=item.qty,
                source=source,
                destination=customer,
                occurred_at=event.occurred_at if event else now,
                lot=item.lot,
                code=package.sscc,
                order_ref=package.order_ref,
                event_id=event.event_id if event else None,
                agent_id=event.agent_id if event else None,
                device=event.device if event else None,
                station=event.station if event else None,
                origin="mqtt" if event else "api",
            )
        )
        row = rows[item.allocation_id]
        out.reserve(StockKey(item.product_id, item.location_id, item.lot), -item.qty)
        uow.orders.update_allocation(
            item.allocation_id, staged=row.staged - item.qty, packed=row.packed - item.qty
        )
        rows[item.allocation_id] = replace(
            row, staged=row.staged - item.qty, packed=row.packed - item.qty
        )
        lines[row.task.line_id] = lines.get(row.task.line_id, ZERO) + item.qty
    for line in order.lines:
        if line.id in lines:
            uow.orders.update_line(line.id, shipped=line.shipped + lines[line.id])
    uow.orders.set_package_status(package.id, "shipped", now)
    uow.orders.update_sales_order(order.id, now, status=_status(uow, order.ref).value)
    if scan is not None:
        out.tell(scan, "ok", f"{package.order_ref}: package {package.sscc} shipped")
    return movements


def ship_scans(
    uow: UnitOfWork, catalog: Catalog, scans: Sequence[Scan], out: Reconciled, now: datetime
) -> None:
    """Packages scanned at a shipping station (by barcode or SSCC-96 tag) ship whole."""
    for scan in scans:
        assert scan.sscc is not None
        package = uow.orders.package(scan.sscc, lock=True)
        if package is None or package.direction != "outbound":
            out.flag(
                ExceptionKind.UNKNOWN_SSCC,
                f"package {scan.sscc} was scanned for shipping "
                f"at {scan.location} and was never packed here",
                scan,
                location=scan.location,
            )
            out.tell(scan, "error", f"unknown package {scan.sscc}")
        elif package.status != "packed":
            out.tell(scan, "warn", f"package {scan.sscc} is {package.status} already")
        else:
            out.post += ship_package(uow, catalog, package, out, scan, now)


def ship(uow: UnitOfWork, catalog: Catalog, sscc: str, principal: str, now: datetime) -> str:
    """Ship a packed package through the API; return its order's new status."""
    with uow:
        catalog.refresh(uow)
        package = uow.orders.package(sscc, lock=True)
        if package is None or package.direction != "outbound":
            raise NotFound(f"no outbound package has SSCC {sscc}", field="sscc")
        if package.status != "packed":
            raise Conflict(f"package {sscc} is {package.status}", field="sscc")
        out = Reconciled()
        movements = ship_package(uow, catalog, package, out, None, now)
        posting.post(uow, movements, now, enforce=False)
        uow.orders.reserve(out.reserved, now)
        assert package.order_ref is not None
        status = _status(uow, package.order_ref)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "package.ship",
                f"package:{sscc}",
                package.site,
                {"status": "packed"},
                {"status": "shipped"},
            )
        )
        uow.commit()
    return status.value
