"""Transfers and their lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, insert, select, update

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.service.ports import OrderLine, TransferLine, TransferView
from warehouse.stock.adapters import tables as stock_tables

T, TL, P, L = (
    orders_tables.transfers,
    orders_tables.transfer_lines,
    catalog_tables.products,
    stock_tables.locations,
)
ZERO = Decimal(0)


class SqlTransfers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        ref: str,
        from_site: str,
        to_site: str,
        from_location_id: int,
        to_location_id: int,
        lines: Sequence[OrderLine],
        by: str,
        at: datetime,
    ) -> None:
        transfer_id = self.conn.execute(
            insert(T).returning(T.c.id),
            {
                "ref": ref,
                "from_site": from_site,
                "to_site": to_site,
                "from_location_id": from_location_id,
                "to_location_id": to_location_id,
                "status": "draft",
                "created_by": by,
                "created_at": at,
                "updated_at": at,
            },
        ).scalar_one()
        self.conn.execute(
            insert(TL),
            [
                {
                    "transfer_id": transfer_id,
                    "line_no": n,
                    "product_id": x.product_id,
                    "lot": x.lot,
                    "qty": x.qty,
                    "shipped": ZERO,
                    "received": ZERO,
                }
                for n, x in enumerate(lines, 1)
            ],
        )

    def get(self, ref: str, *, lock: bool) -> TransferView | None:
        src, dst = L.alias("src"), L.alias("dst")
        query = (
            select(T, src.c.code.label("from_code"), dst.c.code.label("to_code"))
            .join(src, src.c.id == T.c.from_location_id)
            .join(dst, dst.c.id == T.c.to_location_id)
            .where(T.c.ref == ref)
        )
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=T)
        head = self.conn.execute(query).first()
        if head is None:
            return None
        lines = tuple(
            TransferLine(r.line_no, r.product_id, r.sku, r.lot, r.qty, r.shipped, r.received)
            for r in self.conn.execute(
                select(TL, P.c.sku)
                .join(P, P.c.id == TL.c.product_id)
                .where(TL.c.transfer_id == head.id)
                .order_by(TL.c.line_no)
            )
        )
        return TransferView(
            head.id,
            head.ref,
            head.from_site,
            head.to_site,
            head.from_code,
            head.to_code,
            head.status,
            lines,
        )

    def update_line(self, transfer_id: int, line_no: int, **values: Decimal) -> None:
        self.conn.execute(
            update(TL)
            .where(and_(TL.c.transfer_id == transfer_id, TL.c.line_no == line_no))
            .values(**values)
        )

    def set_status(self, transfer_id: int, status: str, at: datetime) -> None:
        self.conn.execute(
            update(T).where(T.c.id == transfer_id).values(status=status, updated_at=at)
        )
