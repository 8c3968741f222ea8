"""Picking by scan: a batch's picks against sales orders settle their pick tasks (or are
refused as exceptions, with an ``error`` to the station); packing stations check items by scan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from warehouse.core.errors import DomainError
from warehouse.exceptions.domain import ExceptionKind
from warehouse.floor.events import FloorEvent
from warehouse.floor.outcome import Scan
from warehouse.orders import domain as orders
from warehouse.orders.domain import RESERVING
from warehouse.orders.service.fulfilment import ZERO, status_of
from warehouse.orders.service.ports import AllocationRow, OrdersUnitOfWork, SalesOrderView
from warehouse.orders.service.reconcile import Reconciled
from warehouse.stock.domain.model import Movement, StockKey
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.resolve import Catalog


def pick_scans(
    uow: OrdersUnitOfWork, scans: Sequence[Scan], out: Reconciled, now: datetime
) -> None:
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
        uow: OrdersUnitOfWork,
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
            status = status_of(tuple(self.lines.values()))
            uow.orders.update_sales_order(self.order.id, now, status=status.value)


def pack_scans(
    uow: OrdersUnitOfWork, catalog: Catalog, events: Sequence[FloorEvent], out: Reconciled
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
