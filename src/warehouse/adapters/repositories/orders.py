"""Orders, allocations, packages, SSCC series and the exceptions queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from warehouse.adapters import orm
from warehouse.adapters.sql import insert as upsert
from warehouse.adapters.types import Quantity
from warehouse.domain.model import MAX_BALANCE, VIRTUAL_KINDS, LocationKind, StockKey
from warehouse.domain.orders import Allocation, Bin, OpenLine, PurchaseStatus
from warehouse.service_layer.ports_orders import (
    AllocationRow,
    NewAllocation,
    NewException,
    NewPurchaseOrder,
    NewSalesOrder,
    PackageLine,
    PackageView,
    PurchaseLineView,
    PurchaseOrderView,
    ReturnLine,
    SalesLineView,
    SalesOrderView,
    StoredException,
)

ZERO = Decimal(0)
#: Stock that confirmations may reserve: physical locations but registers (a shop's shelf).
_UNRESERVABLE = {k.value for k in VIRTUAL_KINDS} | {LocationKind.REGISTER.value}


def _locked(conn: Connection, query: Select[Any], lock: bool) -> Select[Any]:
    return query.with_for_update() if lock and conn.dialect.name == "postgresql" else query


class SqlOrders:
    """Purchase and sales orders, their lines, pick tasks and packages."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- purchase orders ----------------------------------------------------------------------

    def add_purchase_order(self, order: NewPurchaseOrder, by: str, at: datetime) -> int:
        po = orm.purchase_orders
        order_id = int(
            self.conn.execute(
                insert(po).returning(po.c.id),
                {
                    "ref": order.ref,
                    "site": order.site,
                    "supplier": order.supplier,
                    "expected_date": order.expected_date,
                    "status": PurchaseStatus.OPEN.value,
                    "created_by": by,
                    "created_at": at,
                    "updated_at": at,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(orm.purchase_order_lines),
            [
                {
                    "order_id": order_id,
                    "line_no": n,
                    "product_id": line.product_id,
                    "qty": line.qty,
                    "received": ZERO,
                    "lot": line.lot,
                    "expiry": line.expiry,
                }
                for n, line in enumerate(order.lines, 1)
            ],
        )
        for sscc, contents in order.packages.items():
            self.add_package(
                sscc,
                order.site,
                "inbound",
                "expected",
                [PackageLine(c.product_id, c.qty, c.lot, c.expiry) for c in contents],
                at,
                purchase_order_id=order_id,
            )
        return order_id

    def purchase_order(self, ref: str, *, lock: bool) -> PurchaseOrderView | None:
        po, line, p = orm.purchase_orders, orm.purchase_order_lines, orm.products
        head = self.conn.execute(
            _locked(self.conn, select(po).where(po.c.ref == ref), lock)
        ).first()
        if head is None:
            return None
        rows = self.conn.execute(
            select(line, p.c.sku)
            .join(p, p.c.id == line.c.product_id)
            .where(line.c.order_id == head.id)
            .order_by(line.c.line_no)
        )
        lines = tuple(
            PurchaseLineView(
                r.id, r.line_no, r.product_id, r.sku, r.qty, r.received, r.lot, r.expiry
            )
            for r in rows
        )
        return PurchaseOrderView(
            head.id, head.ref, head.site, head.supplier, head.status, head.expected_date, lines
        )

    def open_receipt_lines(
        self, site: str, product_ids: Sequence[int], order_ref: str | None
    ) -> dict[int, list[OpenLine]]:
        if not product_ids:
            return {}
        po, line = orm.purchase_orders, orm.purchase_order_lines
        query = (
            select(line, po.c.ref, po.c.expected_date)
            .join(po, po.c.id == line.c.order_id)
            .where(
                po.c.site == site,
                po.c.status == PurchaseStatus.OPEN.value,
                line.c.product_id.in_(list(product_ids)),
            )
            .order_by(line.c.id)
        )
        if order_ref is not None:
            query = query.where(po.c.ref == order_ref)
        out: dict[int, list[OpenLine]] = defaultdict(list)
        for r in self.conn.execute(_locked(self.conn, query, True)):
            out[r.product_id].append(
                OpenLine(r.id, r.ref, r.line_no, r.qty, r.received, r.expected_date, r.lot)
            )
        return dict(out)

    def add_received(self, received: Mapping[int, Decimal], at: datetime) -> None:
        line = orm.purchase_order_lines
        for line_id, qty in sorted(received.items()):
            self.conn.execute(
                update(line)
                .where(line.c.id == line_id)
                .values(received=line.c.received + type_coerce(qty, Quantity))
            )

    def set_purchase_status(self, order_id: int, status: str, at: datetime) -> None:
        po = orm.purchase_orders
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if status == PurchaseStatus.CLOSED:
            values["closed_at"] = at
        self.conn.execute(update(po).where(po.c.id == order_id).values(**values))

    # --- sales orders -------------------------------------------------------------------------

    def add_sales_order(self, order: NewSalesOrder, by: str, at: datetime) -> int:
        so = orm.sales_orders
        order_id = int(
            self.conn.execute(
                insert(so).returning(so.c.id),
                {
                    "ref": order.ref,
                    "site": order.site,
                    "customer": order.customer,
                    "requested_date": order.requested_date,
                    "status": "draft",
                    "shortage": order.shortage,
                    "reserve_minutes": order.reserve_minutes,
                    "created_by": by,
                    "created_at": at,
                    "updated_at": at,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(orm.sales_order_lines),
            [
                {
                    "order_id": order_id,
                    "line_no": n,
                    "product_id": line.product_id,
                    "qty": line.qty,
                    **dict.fromkeys(
                        ("reserved", "picked", "packed", "shipped", "backordered", "returned"), ZERO
                    ),
                }
                for n, line in enumerate(order.lines, 1)
            ],
        )
        return order_id

    def sales_order(self, ref: str, *, lock: bool) -> SalesOrderView | None:
        return self.sales_orders([ref], lock=lock).get(ref)

    def sales_orders(self, refs: Sequence[str], *, lock: bool) -> dict[str, SalesOrderView]:
        so, line, p = orm.sales_orders, orm.sales_order_lines, orm.products
        heads = self.conn.execute(
            _locked(
                self.conn, select(so).where(so.c.ref.in_(sorted(set(refs)))).order_by(so.c.id), lock
            )
        ).all()
        if not heads:
            return {}
        lines: dict[int, list[SalesLineView]] = defaultdict(list)
        for r in self.conn.execute(
            select(line, p.c.sku)
            .join(p, p.c.id == line.c.product_id)
            .where(line.c.order_id.in_([h.id for h in heads]))
            .order_by(line.c.order_id, line.c.line_no)
        ):
            lines[r.order_id].append(
                SalesLineView(
                    r.id,
                    r.line_no,
                    r.product_id,
                    r.sku,
                    r.qty,
                    r.reserved,
                    r.picked,
                    r.packed,
                    r.shipped,
                    r.backordered,
                    r.returned,
                )
            )
        return {
            h.ref: SalesOrderView(
                h.id,
                h.ref,
                h.site,
                h.customer,
                h.status,
                h.shortage,
                h.reserve_minutes,
                h.reserved_until,
                tuple(lines[h.id]),
            )
            for h in heads
        }

    def update_sales_order(self, order_id: int, at: datetime, **values: Any) -> None:
        so = orm.sales_orders
        self.conn.execute(update(so).where(so.c.id == order_id).values(updated_at=at, **values))

    def update_line(self, line_id: int, **values: Decimal) -> None:
        line = orm.sales_order_lines
        self.conn.execute(update(line).where(line.c.id == line_id).values(**values))

    def bins(self, product_id: int, site: str, *, lock: bool) -> list[Bin]:
        s, loc, m = orm.stock, orm.locations, orm.movements
        rows = self.conn.execute(
            _locked(
                self.conn,
                select(s.c.location_id, s.c.location_code, s.c.lot, s.c.on_hand, s.c.reserved)
                .join(loc, loc.c.id == s.c.location_id)
                .where(
                    s.c.product_id == product_id,
                    s.c.location_path.startswith(f"/{site}/"),
                    loc.c.kind.not_in(_UNRESERVABLE),
                )
                .order_by(s.c.product_id, s.c.location_id, s.c.lot),
                lock,
            )
        ).all()
        rows = [r for r in rows if r.on_hand - r.reserved > 0]
        if not rows:
            return []
        lots = sorted({r.lot for r in rows if r.lot})
        expiry = (
            dict(
                self.conn.execute(
                    select(m.c.lot, func.min(m.c.expiry))
                    .where(m.c.product_id == product_id, m.c.lot.in_(lots), m.c.expiry.is_not(None))
                    .group_by(m.c.lot)
                ).all()
            )
            if lots
            else {}
        )
        since = {
            (r.to_location_id, r.lot): r.first
            for r in self.conn.execute(
                select(m.c.to_location_id, m.c.lot, func.min(m.c.occurred_at).label("first"))
                .where(
                    m.c.product_id == product_id,
                    m.c.to_location_id.in_(sorted({r.location_id for r in rows})),
                )
                .group_by(m.c.to_location_id, m.c.lot)
            )
        }
        return [
            Bin(
                r.location_id,
                r.location_code,
                r.lot,
                r.on_hand - r.reserved,
                expiry.get(r.lot),
                since.get((r.location_id, r.lot)),
            )
            for r in rows
        ]

    def add_allocations(self, order_id: int, rows: Sequence[NewAllocation]) -> None:
        if not rows:
            return
        self.conn.execute(
            insert(orm.allocations),
            [
                {
                    "order_id": order_id,
                    "line_id": r.line_id,
                    "product_id": r.product_id,
                    "location_id": r.location_id,
                    "lot": r.lot,
                    "qty": r.qty,
                    "picked": ZERO,
                    "staged": ZERO,
                    "packed": ZERO,
                }
                for r in rows
            ],
        )

    def allocations(self, order_id: int, *, lock: bool) -> list[AllocationRow]:
        return self.allocations_of([order_id], lock=lock).get(order_id, [])

    def allocations_of(
        self, order_ids: Sequence[int], *, lock: bool
    ) -> dict[int, list[AllocationRow]]:
        a, line, p, loc = orm.allocations, orm.sales_order_lines, orm.products, orm.locations
        query = (
            select(
                a,
                line.c.line_no,
                line.c.qty.label("line_qty"),
                line.c.picked.label("line_picked"),
                p.c.sku,
                loc.c.code,
            )
            .join(line, line.c.id == a.c.line_id)
            .join(p, p.c.id == a.c.product_id)
            .join(loc, loc.c.id == a.c.location_id)
            .where(a.c.order_id.in_(sorted(set(order_ids))))
            .order_by(a.c.id)
        )
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=a)
        out: dict[int, list[AllocationRow]] = defaultdict(list)
        for r in self.conn.execute(query):
            out[r.order_id].append(
                AllocationRow(
                    Allocation(
                        r.id,
                        r.line_id,
                        r.line_no,
                        r.product_id,
                        r.sku,
                        r.location_id,
                        r.code,
                        r.lot,
                        r.qty,
                        r.line_qty,
                        r.line_picked,
                    ),
                    r.picked,
                    r.staged_location_id,
                    r.staged,
                    r.packed,
                )
            )
        return dict(out)

    def update_allocations(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many allocations at once: each dict has ``id`` and the same other columns."""
        if rows:
            a = orm.allocations
            names = [k for k in rows[0] if k != "id"]
            stmt = (
                update(a)
                .where(a.c.id == bindparam("b_id"))
                .values({k: bindparam(f"b_{k}") for k in names})
            )
            self.conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])

    def update_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many sales-order lines at once: each dict has ``id`` and the same other columns."""
        if rows:
            line = orm.sales_order_lines
            names = [k for k in rows[0] if k != "id"]
            stmt = (
                update(line)
                .where(line.c.id == bindparam("b_id"))
                .values({k: bindparam(f"b_{k}") for k in names})
            )
            self.conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])

    def update_allocation(self, allocation_id: int, **values: Any) -> None:
        a = orm.allocations
        self.conn.execute(update(a).where(a.c.id == allocation_id).values(**values))

    def expired_orders(self, now: datetime, limit: int) -> list[str]:
        so = orm.sales_orders
        return list(
            self.conn.execute(
                select(so.c.ref)
                .where(so.c.status == "confirmed", so.c.reserved_until <= now)
                .order_by(so.c.reserved_until)
                .limit(limit)
            ).scalars()
        )

    def reserve(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None:
        s = orm.stock
        for key, delta in sorted(deltas.items()):
            if not delta:
                continue
            where = and_(
                s.c.product_id == key.product_id,
                s.c.location_id == key.location_id,
                s.c.lot == key.lot,
            )
            self.conn.execute(
                update(s)
                .where(where)
                .values(
                    reserved=s.c.reserved + type_coerce(delta, Quantity),
                    version=s.c.version + 1,
                    updated_at=at,
                )
            )

    # --- packages -----------------------------------------------------------------------------

    def add_package(
        self,
        sscc: str,
        site: str,
        direction: str,
        status: str,
        lines: Sequence[PackageLine],
        at: datetime,
        *,
        purchase_order_id: int | None = None,
        sales_order_id: int | None = None,
    ) -> int:
        pk = orm.packages
        package_id = int(
            self.conn.execute(
                insert(pk).returning(pk.c.id),
                {
                    "sscc": sscc,
                    "site": site,
                    "direction": direction,
                    "status": status,
                    "purchase_order_id": purchase_order_id,
                    "sales_order_id": sales_order_id,
                    "created_at": at,
                    "updated_at": at,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(orm.package_lines),
            [
                {
                    "package_id": package_id,
                    "line_no": n,
                    "product_id": x.product_id,
                    "lot": x.lot,
                    "expiry": x.expiry,
                    "qty": x.qty,
                    "allocation_id": x.allocation_id,
                    "location_id": x.location_id,
                }
                for n, x in enumerate(lines, 1)
            ],
        )
        return package_id

    def package(self, sscc: str, *, lock: bool) -> PackageView | None:
        pk, pl, p = orm.packages, orm.package_lines, orm.products
        po, so = orm.purchase_orders, orm.sales_orders
        query = (
            select(pk, po.c.ref.label("po_ref"), so.c.ref.label("so_ref"))
            .outerjoin(po, po.c.id == pk.c.purchase_order_id)
            .outerjoin(so, so.c.id == pk.c.sales_order_id)
            .where(pk.c.sscc == sscc)
        )
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=pk)
        head = self.conn.execute(query).first()
        if head is None:
            return None
        lines = tuple(
            PackageLine(r.product_id, r.qty, r.lot, r.expiry, r.allocation_id, r.location_id, r.sku)
            for r in self.conn.execute(
                select(pl, p.c.sku)
                .join(p, p.c.id == pl.c.product_id)
                .where(pl.c.package_id == head.id)
                .order_by(pl.c.line_no)
            )
        )
        return PackageView(
            head.id,
            head.sscc,
            head.site,
            head.direction,
            head.status,
            head.po_ref or head.so_ref,
            lines,
        )

    def set_package_status(self, package_id: int, status: str, at: datetime) -> None:
        pk = orm.packages
        self.conn.execute(
            update(pk).where(pk.c.id == package_id).values(status=status, updated_at=at)
        )

    def next_sscc_ref(self, site: str, company_prefix: str) -> int:
        series = orm.sscc_series
        stmt = upsert(self.conn, series).values(
            site=site, company_prefix=company_prefix, next_ref=1
        )
        self.conn.execute(stmt.on_conflict_do_nothing())
        where = and_(series.c.site == site, series.c.company_prefix == company_prefix)
        current = int(
            self.conn.execute(
                _locked(self.conn, select(series.c.next_ref).where(where), True)
            ).scalar_one()
        )
        self.conn.execute(update(series).where(where).values(next_ref=current + 1))
        return current

    # --- returns ------------------------------------------------------------------------------

    def return_exists(self, ref: str) -> bool:
        r = orm.returns
        return self.conn.execute(select(r.c.id).where(r.c.ref == ref)).first() is not None

    def add_return(
        self,
        ref: str,
        site: str,
        order_id: int,
        location_id: int,
        lines: Sequence[ReturnLine],
        by: str,
        at: datetime,
    ) -> None:
        r = orm.returns
        return_id = self.conn.execute(
            insert(r).returning(r.c.id),
            {
                "ref": ref,
                "site": site,
                "sales_order_id": order_id,
                "location_id": location_id,
                "created_by": by,
                "created_at": at,
            },
        ).scalar_one()
        self.conn.execute(
            insert(orm.return_lines),
            [
                {
                    "return_id": return_id,
                    "line_no": n,
                    "order_line_id": x.order_line_id,
                    "product_id": x.product_id,
                    "lot": x.lot,
                    "qty": x.qty,
                    "disposition": x.disposition,
                    "to_location_id": x.to_location_id,
                }
                for n, x in enumerate(lines, 1)
            ],
        )


def _clip(value: str | None, size: int) -> str | None:
    return value[:size].replace("\x00", "") or None if value else None


def _storable_qty(qty: Decimal | None) -> Decimal | None:
    """The quantity if the column can hold it (a rejected event's may be anything)."""
    if (
        qty is None
        or not qty.is_finite()
        or abs(qty) > MAX_BALANCE
        or qty != qty.quantize(Decimal("0.000001"))
    ):
        return None
    return qty


class SqlExceptions:
    """The exceptions queue."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, records: Sequence[NewException], at: datetime) -> None:
        if not records:
            return
        self.conn.execute(
            insert(orm.floor_exceptions),
            [
                {
                    "kind": r.kind,
                    "status": "open",
                    # clipped to the columns: an exception is often about an event whose
                    # fields the database refused, and must be storable all the same
                    "site": _clip(r.site, 64),
                    "event_id": _clip(r.event_id, 36),
                    "agent_id": _clip(r.agent_id, 64),
                    "station": _clip(r.station, 64),
                    "order_ref": _clip(r.order_ref, 64),
                    "sku": _clip(r.sku, 64),
                    "location": _clip(r.location, 64),
                    "lot": _clip(r.lot, 64),
                    "qty": _storable_qty(r.qty),
                    "code": _clip(r.code, 128),
                    "detail": r.detail,
                    "suggestions": ",".join(r.suggestions),
                    "created_at": at,
                }
                for r in records
            ],
        )

    def get(self, exception_id: int, *, lock: bool) -> StoredException | None:
        x = orm.floor_exceptions
        row = self.conn.execute(
            _locked(self.conn, select(x).where(x.c.id == exception_id), lock)
        ).first()
        if row is None:
            return None
        return StoredException(
            row.id,
            row.kind,
            row.status,
            row.site,
            row.event_id,
            row.order_ref,
            row.sku,
            row.location,
            row.lot,
            row.qty,
            row.code,
            row.detail,
            tuple(s for s in row.suggestions.split(",") if s),
        )

    def open_keys(
        self, kind: str, keys: Sequence[tuple[str, str, str]]
    ) -> set[tuple[str, str, str]]:
        """Which (sku, location, lot) keys have an open exception of ``kind``."""
        x = orm.floor_exceptions
        found: set[tuple[str, str, str]] = set()
        skus = sorted({k[0] for k in keys if k[0]})
        places = sorted({k[1] for k in keys})
        match = x.c.sku.in_(skus) if skus else x.c.location.in_(places)
        for row in self.conn.execute(
            select(x.c.sku, x.c.location, x.c.lot).where(
                x.c.kind == kind, x.c.status == "open", match
            )
        ):
            found.add((row.sku or "", row.location or "", row.lot or ""))
        return found & set(keys)

    def open_for_event(self, event_id: str, kind: str) -> list[int]:
        x = orm.floor_exceptions
        return list(
            self.conn.execute(
                select(x.c.id).where(
                    x.c.event_id == event_id, x.c.kind == kind, x.c.status == "open"
                )
            ).scalars()
        )

    def close(
        self,
        exception_id: int,
        status: str,
        resolution: str,
        by: str,
        note: str | None,
        at: datetime,
    ) -> None:
        x = orm.floor_exceptions
        self.conn.execute(
            update(x)
            .where(x.c.id == exception_id)
            .values(status=status, resolution=resolution, resolved_by=by, note=note, resolved_at=at)
        )
