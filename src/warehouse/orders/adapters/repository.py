"""The order repository: purchase orders, packages and their SSCC series, returns; sales orders
come from sales.py (one port, two modules)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    insert,
    select,
    type_coerce,
    update,
)

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.sql import insert as upsert
from warehouse.core.sql import locked
from warehouse.core.types import Quantity
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.adapters.sales import SqlSales
from warehouse.orders.domain import OpenLine, PurchaseStatus
from warehouse.orders.service.ports import (
    NewPurchaseOrder,
    PackageLine,
    PackageView,
    PurchaseLineView,
    PurchaseOrderView,
    ReturnLine,
)

ZERO = Decimal(0)


class SqlOrders(SqlSales):
    """Purchase and sales orders, their lines, pick tasks, packages and returns."""

    # --- purchase orders ----------------------------------------------------------------------

    def partner_in_use(self, partner_id: int) -> bool:
        po, so = orders_tables.purchase_orders, orders_tables.sales_orders
        found = (
            select(po.c.id)
            .where(po.c.partner_id == partner_id)
            .union_all(select(so.c.id).where(so.c.partner_id == partner_id))
        )
        return self.conn.execute(found.limit(1)).first() is not None

    def add_purchase_order(self, order: NewPurchaseOrder, by: str, at: datetime) -> int:
        po = orders_tables.purchase_orders
        order_id = int(
            self.conn.execute(
                insert(po).returning(po.c.id),
                {
                    "ref": order.ref,
                    "site": order.site,
                    "supplier": order.supplier,
                    "currency": order.currency,
                    "partner_id": order.partner_id,
                    "expected_date": order.expected_date,
                    "status": order.status,
                    "created_by": by,
                    "created_at": at,
                    "updated_at": at,
                },
            ).scalar_one()
        )
        self.conn.execute(
            insert(orders_tables.purchase_order_lines),
            [
                {
                    "order_id": order_id,
                    "line_no": n,
                    "product_id": line.product_id,
                    "qty": line.qty,
                    "received": ZERO,
                    "lot": line.lot,
                    "expiry": line.expiry,
                    "unit_cost_minor": line.unit_cost_minor,
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
        po, line, p = (
            orders_tables.purchase_orders,
            orders_tables.purchase_order_lines,
            catalog_tables.products,
        )
        head = self.conn.execute(locked(self.conn, select(po).where(po.c.ref == ref), lock)).first()
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
        po, line = orders_tables.purchase_orders, orders_tables.purchase_order_lines
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
        for r in self.conn.execute(locked(self.conn, query, True)):
            out[r.product_id].append(
                OpenLine(r.id, r.ref, r.line_no, r.qty, r.received, r.expected_date, r.lot)
            )
        return dict(out)

    def add_received(self, received: Mapping[int, Decimal], at: datetime) -> None:
        line = orders_tables.purchase_order_lines
        for line_id, qty in sorted(received.items()):
            self.conn.execute(
                update(line)
                .where(line.c.id == line_id)
                .values(received=line.c.received + type_coerce(qty, Quantity))
            )

    def set_purchase_status(self, order_id: int, status: str, at: datetime) -> None:
        po = orders_tables.purchase_orders
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if status == PurchaseStatus.CLOSED:
            values["closed_at"] = at
        self.conn.execute(update(po).where(po.c.id == order_id).values(**values))

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
        pk = orders_tables.packages
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
            insert(orders_tables.package_lines),
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
        pk, pl, p = orders_tables.packages, orders_tables.package_lines, catalog_tables.products
        po, so = orders_tables.purchase_orders, orders_tables.sales_orders
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
        pk = orders_tables.packages
        self.conn.execute(
            update(pk).where(pk.c.id == package_id).values(status=status, updated_at=at)
        )

    def next_sscc_ref(self, site: str, company_prefix: str) -> int:
        series = orders_tables.sscc_series
        stmt = upsert(self.conn, series).values(
            site=site, company_prefix=company_prefix, next_ref=1
        )
        self.conn.execute(stmt.on_conflict_do_nothing())
        where = and_(series.c.site == site, series.c.company_prefix == company_prefix)
        current = int(
            self.conn.execute(
                locked(self.conn, select(series.c.next_ref).where(where), True)
            ).scalar_one()
        )
        self.conn.execute(update(series).where(where).values(next_ref=current + 1))
        return current

    # --- returns ------------------------------------------------------------------------------

    def return_exists(self, ref: str) -> bool:
        r = orders_tables.returns
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
        r = orders_tables.returns
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
            insert(orders_tables.return_lines),
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
