"""The exceptions queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from warehouse.core.sql import locked
from warehouse.exceptions.adapters import tables
from warehouse.exceptions.service.ports import NewException, StoredException
from warehouse.stock.domain.model import MAX_BALANCE


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
            insert(tables.floor_exceptions),
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
        x = tables.floor_exceptions
        row = self.conn.execute(
            locked(self.conn, select(x).where(x.c.id == exception_id), lock)
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
        x = tables.floor_exceptions
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

    def close(
        self,
        exception_id: int,
        status: str,
        resolution: str,
        by: str,
        note: str | None,
        at: datetime,
    ) -> None:
        x = tables.floor_exceptions
        self.conn.execute(
            update(x)
            .where(x.c.id == exception_id)
            .values(status=status, resolution=resolution, resolved_by=by, note=note, resolved_at=at)
        )
