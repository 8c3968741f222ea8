"""Packing picked goods under a new SSCC, and shipping packages by scan or through the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound
from warehouse.exceptions.domain import ExceptionKind
from warehouse.exceptions.service.ports import NewException
from warehouse.floor.outcome import Scan
from warehouse.orders import domain as orders
from warehouse.orders.domain import RESERVING
from warehouse.orders.service.fulfilment import ZERO, current_status, order_or_404
from warehouse.orders.service.ports import (
    OrdersUnitOfWork,
    PackageLine,
    PackageView,
    SalesOrderView,
)
from warehouse.orders.service.reconcile import Reconciled
from warehouse.stock.domain.model import Movement, MovementKind, StockKey
from warehouse.stock.service import posting
from warehouse.stock.service.resolve import Catalog


@dataclass(frozen=True, slots=True)
class SsccSeries:
    """Where a site's SSCCs come from: its GS1 company prefix and extension digit."""

    company_prefix: str
    extension: int = 0


def pack(uow: OrdersUnitOfWork, ref: str, series: SsccSeries, principal: str, now: datetime) -> str:
    """Put everything picked for the order and not yet packed into a new package; return its
    SSCC (the site's next serial reference under its company prefix, with its check digit)."""
    with uow:
        order = order_or_404(uow, ref, lock=True)
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
        uow.exceptions.add(_under_picked(order), now)
        uow.orders.update_sales_order(order.id, now, status=current_status(uow, ref).value)
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


def _under_picked(order: SalesOrderView) -> list[NewException]:
    """An order packed while stock reserved for it is still unpicked: an exception per line."""
    short = Reconciled()
    for line in order.lines:
        if line.reserved > 0:
            short.flag(
                ExceptionKind.UNDER_PICK,
                f"{order.ref} line {line.line_no}: packed with {line.reserved} x "
                f"{line.sku} reserved and not picked",
                site=order.site,
                order_ref=order.ref,
                sku=line.sku,
                qty=line.reserved,
            )
    return short.exceptions


def ship_package(
    uow: OrdersUnitOfWork,
    catalog: Catalog,
    package: PackageView,
    out: Reconciled,
    scan: Scan | None,
    now: datetime,
) -> list[Movement]:
    """The package's contents move to the customer; its order counts them shipped and their
    reservation ends. Returns the movements (the caller posts them)."""
    assert package.order_ref is not None
    order = order_or_404(uow, package.order_ref, lock=True)
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
    uow.orders.update_sales_order(order.id, now, status=current_status(uow, order.ref).value)
    if scan is not None:
        out.tell(scan, "ok", f"{package.order_ref}: package {package.sscc} shipped")
    return movements


def ship_scans(
    uow: OrdersUnitOfWork, catalog: Catalog, scans: Sequence[Scan], out: Reconciled, now: datetime
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


def ship(uow: OrdersUnitOfWork, catalog: Catalog, sscc: str, principal: str, now: datetime) -> str:
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
        status = current_status(uow, package.order_ref)
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
