"""Count sessions: the book snapshot of a location subtree, counted quantities, staleness."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, delete, exists, func, insert, or_, select, update

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.counts.adapters import tables as counts_tables
from warehouse.counts.service.ports import CountLine, CountView
from warehouse.stock.adapters import tables as stock_tables

ZERO = Decimal(0)
C, CL, L, S, M, P = (
    counts_tables.count_sessions,
    counts_tables.count_lines,
    stock_tables.locations,
    stock_tables.stock,
    stock_tables.movements,
    catalog_tables.products,
)


class SqlCounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_session(
        self, ref: str, site: str, location_id: int, blind: bool, by: str, at: datetime
    ) -> int:
        return int(
            self.conn.execute(
                insert(C).returning(C.c.id),
                {
                    "ref": ref,
                    "site": site,
                    "location_id": location_id,
                    "blind": blind,
                    "status": "open",
                    "snapshot_movement_id": 0,
                    "created_by": by,
                    "created_at": at,
                    "refreshed_at": at,
                },
            ).scalar_one()
        )

    def _path(self, session_id: int) -> str:
        return str(
            self.conn.execute(
                select(L.c.path).join(C, C.c.location_id == L.c.id).where(C.c.id == session_id)
            ).scalar_one()
        )

    def snapshot(self, session_id: int, at: datetime) -> None:
        """The book as it stands now: every stock row under the location (counted quantities
        already entered are kept); the ledger's last id marks when it was taken."""
        last = self.conn.execute(select(func.coalesce(func.max(M.c.id), 0))).scalar_one()
        path = self._path(session_id)
        book = {
            (r.product_id, r.location_id, r.lot): r.on_hand
            for r in self.conn.execute(
                select(S.c.product_id, S.c.location_id, S.c.lot, S.c.on_hand).where(
                    S.c.location_path.startswith(path), S.c.on_hand != 0
                )
            )
        }
        counted = {
            (r.product_id, r.location_id, r.lot): r.counted
            for r in self.conn.execute(select(CL).where(CL.c.session_id == session_id))
        }
        self.conn.execute(delete(CL).where(CL.c.session_id == session_id))
        keys = sorted(book.keys() | {k for k, v in counted.items() if v is not None})
        if keys:
            self.conn.execute(
                insert(CL),
                [
                    {
                        "session_id": session_id,
                        "product_id": k[0],
                        "location_id": k[1],
                        "lot": k[2],
                        "book": book.get(k, ZERO),
                        "counted": counted.get(k),
                    }
                    for k in keys
                ],
            )
        self.conn.execute(
            update(C).where(C.c.id == session_id).values(snapshot_movement_id=last, refreshed_at=at)
        )

    def session(self, ref: str, *, lock: bool) -> CountView | None:
        query = select(C, L.c.code).join(L, L.c.id == C.c.location_id).where(C.c.ref == ref)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=C)
        head = self.conn.execute(query).first()
        if head is None:
            return None
        lines = tuple(
            CountLine(r.product_id, r.sku, r.location_id, r.code, r.lot, r.book, r.counted)
            for r in self.conn.execute(
                select(CL, P.c.sku, L.c.code)
                .join(P, P.c.id == CL.c.product_id)
                .join(L, L.c.id == CL.c.location_id)
                .where(CL.c.session_id == head.id)
                .order_by(L.c.code, P.c.sku, CL.c.lot)
            )
        )
        return CountView(
            head.id,
            head.ref,
            head.site,
            head.location_id,
            head.code,
            head.blind,
            head.status,
            head.snapshot_movement_id,
            lines,
        )

    def moved_since(self, session_id: int) -> bool:
        snap = self.conn.execute(
            select(C.c.snapshot_movement_id).where(C.c.id == session_id)
        ).scalar_one()
        path = self._path(session_id)
        inside = select(L.c.id).where(L.c.path.startswith(path))
        return bool(
            self.conn.execute(
                select(
                    exists().where(
                        M.c.id > snap,
                        or_(M.c.from_location_id.in_(inside), M.c.to_location_id.in_(inside)),
                    )
                )
            ).scalar()
        )

    def any_open(self) -> bool:
        return bool(self.conn.execute(select(exists().where(C.c.status == "open"))).scalar())

    def covering(self, location_id: int) -> list[tuple[int, str]]:
        root, here = L.alias("root"), L.alias("here")
        return [
            (r.id, r.ref)
            for r in self.conn.execute(
                select(C.c.id, C.c.ref)
                .join(root, root.c.id == C.c.location_id)
                .join(here, here.c.id == location_id)
                .where(C.c.status == "open", here.c.path.startswith(root.c.path))
                .order_by(C.c.id)
            )
        ]

    def set_counted(
        self,
        session_id: int,
        product_id: int,
        location_id: int,
        lot: str,
        qty: Decimal,
        *,
        add: bool,
    ) -> Decimal:
        key = and_(
            CL.c.session_id == session_id,
            CL.c.product_id == product_id,
            CL.c.location_id == location_id,
            CL.c.lot == lot,
        )
        row = self.conn.execute(select(CL.c.counted).where(key)).first()
        if row is None:
            self.conn.execute(
                insert(CL),
                {
                    "session_id": session_id,
                    "product_id": product_id,
                    "location_id": location_id,
                    "lot": lot,
                    "book": ZERO,
                    "counted": qty,
                },
            )
            return qty
        total = (row.counted or ZERO) + qty if add else qty
        self.conn.execute(update(CL).where(key).values(counted=total))
        return total

    def set_status(self, session_id: int, status: str, by: str | None, at: datetime) -> None:
        values: dict[str, object] = {"status": status}
        if status == "approved":
            values |= {"approved_by": by, "approved_at": at}
        self.conn.execute(update(C).where(C.c.id == session_id).values(**values))
