"""Sales orders, their lines and pick tasks (allocations), and the reserved column of the
projection; the rest of the order repository is in repository.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.sql import locked
from warehouse.core.types import Quantity
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.domain import Allocation
from warehouse.orders.service.ports import (
    AllocationRow,
    NewAllocation,
    NewSalesOrder,
    SalesLineView,
    SalesOrderView,
)
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.allocation import Bin
from warehouse.stock.domain.model import VIRTUAL_KINDS, LocationKind, StockKey

ZERO = Decimal(0)


#: Stock that confirmations may reserve: physical locations but registers (a shop's shelf).
_UNRESERVABLE = {k.value for k in VIRTUAL_KINDS} | {LocationKind.REGISTER.value}


class SqlSales:
    """Sales orders and what they reserve."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- sales orders -------------------------------------------------------------------------

    def add_sales_order(self, order: NewSalesOrder, by: str, at: datetime) -> int:
        so = orders_tables.sales_orders
        order_id = int(
            self.conn.execute(
                insert(so).returning(so.c.id),
                {
                    "ref": order.ref,
                    "site": order.site,
                    "customer": order.customer,
                    "partner_id": order.partner_id,
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
            insert(orders_tables.sales_order_lines),
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
        so, line, p = (
            orders_tables.sales_orders,
            orders_tables.sales_order_lines,
            catalog_tables.products,
        )
        heads = self.conn.execute(
            locked(
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
        so = orders_tables.sales_orders
        self.conn.execute(update(so).where(so.c.id == order_id).values(updated_at=at, **values))

    def update_line(self, line_id: int, **values: Decimal) -> None:
        line = orders_tables.sales_order_lines
        self.conn.execute(update(line).where(line.c.id == line_id).values(**values))

    def bins(self, product_id: int, site: str, *, lock: bool) -> list[Bin]:
        s, loc, m = stock_tables.stock, stock_tables.locations, stock_tables.movements
        rows = self.conn.execute(
            locked(
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
            insert(orders_tables.allocations),
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
        a, line, p, loc = (
            orders_tables.allocations,
            orders_tables.sales_order_lines,
            catalog_tables.products,
            stock_tables.locations,
        )
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
            a = orders_tables.allocations
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
            line = orders_tables.sales_order_lines
            names = [k for k in rows[0] if k != "id"]
            stmt = (
                update(line)
                .where(line.c.id == bindparam("b_id"))
                .values({k: bindparam(f"b_{k}") for k in names})
            )
            self.conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])

    def update_allocation(self, allocation_id: int, **values: Any) -> None:
        a = orders_tables.allocations
        self.conn.execute(update(a).where(a.c.id == allocation_id).values(**values))

    def expired_orders(self, now: datetime, limit: int) -> list[str]:
        so = orders_tables.sales_orders
        return list(
            self.conn.execute(
                select(so.c.ref)
                .where(so.c.status == "confirmed", so.c.reserved_until <= now)
                .order_by(so.c.reserved_until)
                .limit(limit)
            ).scalars()
        )

    def reserve(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None:
        s = stock_tables.stock
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
        stock_feed.record(self.conn, [k for k, d in deltas.items() if d])
