"""Purchase orders and receiving: orders created and closed, dock receipts matched to order
lines, and packages announced by an advance shipping notice received by their SSCC."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.catalog.domain import gs1_check_digit
from warehouse.core.errors import Conflict, NotFound, OrderRule
from warehouse.exceptions.domain import ExceptionKind
from warehouse.floor.outcome import Scan
from warehouse.orders import domain as orders
from warehouse.orders.domain import OpenLine, PurchaseStatus
from warehouse.orders.service.ports import NewPurchaseOrder, OrderLine, OrdersUnitOfWork
from warehouse.orders.service.reconcile import Reconciled
from warehouse.partners.domain import Partner
from warehouse.stock.domain.model import LocationKind, Movement, MovementKind
from warehouse.stock.service.resolve import Catalog


@dataclass(frozen=True, slots=True)
class LineRequest:
    """An order line as asked for: product by SKU, quantity, optional lot and expiry."""

    sku: str
    qty: Decimal
    lot: str | None = None
    expiry: date | None = None
    unit_cost_minor: int | None = None  # purchase orders: per unit, in the order's currency


@dataclass(frozen=True, slots=True)
class PurchaseOrderRequest:
    ref: str
    site: str
    supplier: str
    lines: Sequence[LineRequest]
    expected_date: date | None = None
    packages: Mapping[str, Sequence[LineRequest]] = field(default_factory=dict)
    principal: str = "system"
    currency: str | None = None  # of the unit costs; None: the partner's, else the book's
    book_currency: str | None = None  # what stock is valued in (the settings')
    partner: str | None = None  # the supplier's partner code (its name is the supplier's)


def order_lines(uow: OrdersUnitOfWork, lines: Sequence[LineRequest], where: str) -> list[OrderLine]:
    """Resolve the SKUs of requested lines; refuse unknown ones and bad quantities by field."""
    out = []
    for n, line in enumerate(lines):
        product = uow.products.get(line.sku)
        if product is None or product.id is None:
            raise NotFound(
                f"{where}[{n}].sku {line.sku!r} is not a known product", field=f"{where}[{n}].sku"
            )
        if line.qty <= 0 or (not product.allows_fraction and line.qty != int(line.qty)):
            kind = "number" if product.allows_fraction else "whole number"
            raise OrderRule(
                f"{where}[{n}].qty must be a positive {kind} of {product.unit}, not {line.qty}",
                field=f"{where}[{n}].qty",
            )
        out.append(
            OrderLine(product.id, line.qty, line.lot or "", line.expiry, line.unit_cost_minor)
        )
    return out


def partner_for(uow: OrdersUnitOfWork, code: str | None, role: str) -> Partner | None:
    """The active supplier or customer (``role``) an order names by code, if it names one."""
    if code is None:
        return None
    partner = uow.partners.get(code)
    if partner is None:
        raise NotFound(f"partner {code!r} does not exist", field="partner")
    if not getattr(partner, role) or not partner.active:
        raise OrderRule(f"partner {code!r} is not an active {role}", field="partner")
    return partner


def require_site(uow: OrdersUnitOfWork, site: str) -> None:
    """Orders belong to a site: a location of kind ``site``."""
    location = uow.locations.get(site)
    if location is None or location.kind is not LocationKind.SITE:
        raise NotFound(f"site {site!r} is not a known site", field="site")


def check_sscc(sscc: str, field: str) -> None:
    """An SSCC is 18 digits whose last is the GS1 check digit of the rest."""
    if len(sscc) != 18 or not sscc.isdigit():
        raise OrderRule(f"{field} {sscc!r} is not an SSCC (18 digits)", field=field)
    if gs1_check_digit(sscc[:17]) != int(sscc[17]):
        raise OrderRule(f"{field} {sscc!r} has a wrong check digit", field=field)


def _currency(request: PurchaseOrderRequest, partner: Partner | None) -> str | None:
    """The order's currency: as asked, else the supplier's; only the book currency, for now."""
    currency = request.currency or (partner.currency if partner else None)
    if currency and request.book_currency and currency != request.book_currency:
        raise OrderRule(
            f"currency {currency} is not the book currency {request.book_currency}: "
            "costs in other currencies need exchange rates, which are not kept yet",
            field="currency",
        )
    return currency


def create_purchase_order(
    uow: OrdersUnitOfWork, request: PurchaseOrderRequest, now: datetime
) -> int:
    """Record a purchase order (with its advance shipping notice, if any); return its id."""
    with uow:
        require_site(uow, request.site)
        if not request.lines:
            raise OrderRule("a purchase order has at least one line", field="lines")
        partner = partner_for(uow, request.partner, "supplier")
        currency = _currency(request, partner)
        if uow.orders.purchase_order(request.ref, lock=False) is not None:
            raise Conflict(f"purchase order {request.ref!r} exists already", field="ref")
        lines = order_lines(uow, request.lines, "lines")
        ordered = {line.product_id for line in lines}
        packages: dict[str, list[OrderLine]] = {}
        for sscc, contents in request.packages.items():
            where = f"packages[{sscc}]"
            check_sscc(sscc, "packages")
            if uow.orders.package(sscc, lock=False) is not None:
                raise Conflict(f"package {sscc} exists already", field="packages")
            packages[sscc] = order_lines(uow, contents, where)
            stray = [c for c in packages[sscc] if c.product_id not in ordered]
            if stray:
                raise OrderRule(
                    f"{where} holds a product that is not on the order", field="packages"
                )
        order_id = uow.orders.add_purchase_order(
            NewPurchaseOrder(
                request.ref,
                request.site,
                request.supplier or (partner.name if partner else ""),
                request.expected_date,
                lines,
                packages,
                currency,
                partner.id if partner else None,
            ),
            request.principal,
            now,
        )
        uow.audit.add(
            AuditEntry(
                now,
                request.principal,
                "purchase_order.create",
                f"purchase_order:{request.ref}",
                request.site,
                None,
                {
                    "supplier": request.supplier,
                    "lines": [[x.sku, x.qty] for x in request.lines],
                    "packages": sorted(request.packages),
                },
            )
        )
        uow.commit()
    return order_id


def close_purchase_order(uow: OrdersUnitOfWork, ref: str, principal: str, now: datetime) -> int:
    """Close an order: what was not received stays short, one ``short_receipt`` exception per
    short line; return how many lines were short."""
    with uow:
        order = uow.orders.purchase_order(ref, lock=True)
        if order is None:
            raise NotFound(f"purchase order {ref!r} does not exist", field="ref")
        if order.status in (PurchaseStatus.CLOSED, PurchaseStatus.CANCELLED):
            raise Conflict(f"purchase order {ref} is {order.status} already", field="ref")
        if order.status == PurchaseStatus.DRAFT:  # never sent: nothing is short
            uow.orders.set_purchase_status(order.id, PurchaseStatus.CANCELLED, now)
            uow.commit()
            return 0
        out = Reconciled()
        short = [line for line in order.lines if line.received < line.qty]
        for line in short:
            out.flag(
                ExceptionKind.SHORT_RECEIPT,
                f"{ref} line {line.line_no}: {line.received} of {line.qty} {line.sku} received",
                site=order.site,
                order_ref=ref,
                sku=line.sku,
                qty=line.qty - line.received,
            )
        uow.exceptions.add(out.exceptions, now)
        uow.orders.set_purchase_status(order.id, PurchaseStatus.CLOSED, now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "purchase_order.close",
                f"purchase_order:{ref}",
                order.site,
                {"status": order.status},
                {"status": "closed", "short_lines": len(short)},
            )
        )
        uow.commit()
    return len(short)


def match_receipts(
    uow: OrdersUnitOfWork,
    receipts: Sequence[tuple[Movement, Scan | None]],
    out: Reconciled,
    now: datetime,
) -> None:
    """Book receipts on the open purchase-order lines of their product at their site.

    A receipt naming an order counts against that order only; one that names none goes to the
    open lines for its product, oldest expected date first, and is an unplanned receipt when
    there are none. An over-receipt, or a product the named order does not list, is applied
    (the goods are at the dock) and is an exception. The site is the receiving location's."""
    by_site: dict[str, list[tuple[Movement, Scan | None]]] = defaultdict(list)
    for movement, scan in receipts:
        site = movement.destination.site_code or (scan.event.site if scan else None)
        if site:
            by_site[site].append((movement, scan))
    received: dict[int, Decimal] = defaultdict(Decimal)
    touched: set[str] = set()
    for site, items in by_site.items():
        product_ids = sorted({m.product.id for m, _ in items if m.product.id is not None})
        lines = {
            product: orders.receipt_order(open_lines)
            for product, open_lines in uow.orders.open_receipt_lines(
                site, product_ids, None
            ).items()
        }
        for movement, scan in items:
            for line, qty in _match_one(uow, movement, scan, lines, site, out):
                received[line.line_id] += qty
                if line.received >= line.expected:  # its order may be complete now
                    touched.add(line.order_ref)
    uow.orders.add_received(received, now)
    for ref in sorted(touched):
        order = uow.orders.purchase_order(ref, lock=False)
        if (
            order is not None
            and order.status == PurchaseStatus.OPEN
            and all(line.received >= line.qty for line in order.lines)
        ):
            uow.orders.set_purchase_status(order.id, PurchaseStatus.RECEIVED, now)


def _match_one(
    uow: OrdersUnitOfWork,
    movement: Movement,
    scan: Scan | None,
    lines: dict[int, list[OpenLine]],
    site: str,
    out: Reconciled,
) -> list[tuple[OpenLine, Decimal]]:
    """Book one receipt on ``lines`` (updated in place, so the next receipt sees it)."""
    assert movement.product.id is not None
    current = lines.get(movement.product.id, [])
    ref = movement.order_ref
    mine = [line for line in current if line.order_ref == ref] if ref else current
    booked = _book(movement, scan, mine, site, out) if mine else []
    if not booked:  # unplanned without an order; unexpected against one
        if ref:
            _unexpected(uow, movement, scan, site, out)
        return []
    for line, _ in booked:
        at = next(n for n, x in enumerate(current) if x.line_id == line.line_id)
        current[at] = line
    return booked


def _book(
    movement: Movement, scan: Scan | None, mine: Sequence[OpenLine], site: str, out: Reconciled
) -> list[tuple[OpenLine, Decimal]]:
    """Spread one receipt over its open lines; return each line as it now stands with the qty
    booked on it (nothing when no line takes its lot). Tells the station how the line stands."""
    taken, over = orders.match_receipt(movement.qty, movement.lot, mine)
    if not taken:
        return []
    if movement.order_ref is None:
        movement.order_ref = taken[0][0].order_ref
    booked = [(replace(line, received=line.received + qty), qty) for line, qty in taken]
    first = booked[0][0]
    text = orders.receipt_text(first.order_ref, first.line_no, first.received, first.expected)
    if over > 0:
        out.flag(
            ExceptionKind.OVER_RECEIPT,
            f"{text}: {over} x {movement.product.sku} more than ordered",
            scan,
            site=site,
            order_ref=first.order_ref,
            qty=over,
            location=movement.destination.code,
        )
        if scan is not None:
            out.tell(scan, "warn", f"{text} ({over} over)")
    elif scan is not None:
        out.tell(scan, "ok", text)
    return booked


def _unexpected(
    uow: OrdersUnitOfWork, movement: Movement, scan: Scan | None, site: str, out: Reconciled
) -> None:
    ref = movement.order_ref
    assert ref is not None
    order = uow.orders.purchase_order(ref, lock=False)
    if order is None or order.site != site:
        why = f"{ref} is not a purchase order of {site}"
    elif order.status != PurchaseStatus.OPEN:
        why = f"{ref} is {order.status}"
    else:
        why = f"{movement.product.sku} is not on {ref}"
    out.flag(
        ExceptionKind.UNEXPECTED_ITEM,
        f"received {movement.qty} x {movement.product.sku}: {why}",
        scan,
        site=site,
        qty=movement.qty,
        location=movement.destination.code,
    )
    if scan is not None:
        out.tell(scan, "warn", f"unexpected: {why}")


def receive_packages(
    uow: OrdersUnitOfWork, catalog: Catalog, scans: Sequence[Scan], out: Reconciled, now: datetime
) -> list[tuple[Movement, Scan | None]]:
    """Packages scanned (or read from an SSCC-96 tag) at a receiving station: each announced
    one is received whole, its contents as receipts; return them to be matched like any."""
    receipts: list[tuple[Movement, Scan | None]] = []
    for scan in scans:
        assert scan.sscc is not None
        package = uow.orders.package(scan.sscc, lock=True)
        if package is None or package.direction != "inbound":
            out.flag(
                ExceptionKind.UNKNOWN_SSCC,
                f"package {scan.sscc} was received at {scan.location} and no advance "
                "shipping notice announced it",
                scan,
                location=scan.location,
            )
            out.tell(scan, "error", f"unknown package {scan.sscc}")
            continue
        if package.status != "expected":
            out.tell(scan, "warn", f"package {scan.sscc} was received already")
            continue
        destination = catalog.location(uow, scan.location or "", "to_location")
        supplier = catalog.location(uow, "SUPPLIER", "from_location")
        event = scan.event
        for line in package.lines:
            product = uow.products.by_id(line.product_id)
            assert product is not None
            movement = Movement(
                kind=MovementKind.RECEIVE,
                product=product,
                qty=line.qty,
                source=supplier,
                destination=destination,
                occurred_at=event.occurred_at,
                lot=line.lot,
                expiry=line.expiry,
                code=scan.sscc,
                order_ref=package.order_ref,
                event_id=event.event_id,
                agent_id=event.agent_id,
                device=event.device,
                station=event.station,
            )
            out.post.append(movement)
            receipts.append((movement, None))
        uow.orders.set_package_status(package.id, "received", now)
        out.tell(
            scan,
            "ok",
            f"package {scan.sscc}: {len(package.lines)} lines received"
            + (f" for {package.order_ref}" if package.order_ref else ""),
        )
    return receipts
