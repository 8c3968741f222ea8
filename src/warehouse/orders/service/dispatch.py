"""Floor events that concern orders, dispatched by kind to receiving and fulfilment inside
the ingest transaction (ARCHITECTURE.md, "Growing the house")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from warehouse.floor.outcome import Scan
from warehouse.orders.service import picking, receiving, shipping
from warehouse.orders.service.ports import OrdersUnitOfWork
from warehouse.orders.service.reconcile import Reconciled
from warehouse.stock.domain.model import MovementKind
from warehouse.stock.service.resolve import Catalog

#: Movement kinds whose floor events are matched to orders.
ORDER_KINDS = frozenset(
    {MovementKind.RECEIVE.value, MovementKind.PICK.value, MovementKind.SHIP.value}
)


def floor_scans(
    uow: OrdersUnitOfWork, catalog: Catalog, scans: Sequence[Scan], now: datetime
) -> Reconciled:
    """Match a batch's order scans (each one new: only claimed events come here)."""
    out = Reconciled()
    if not scans:
        return out
    packages_in = [s for s in scans if s.sscc and s.kind == MovementKind.RECEIVE]
    packages_out = [s for s in scans if s.sscc and s.kind == MovementKind.SHIP]
    picks = [s for s in scans if s.movement is not None and s.movement.kind is MovementKind.PICK]
    receipts = [
        (s.movement, s)
        for s in scans
        if s.movement is not None and s.movement.kind is MovementKind.RECEIVE
    ]
    expanded = receiving.receive_packages(uow, catalog, packages_in, out, now)
    planned = [(m, s) for m, s in receipts if m is not None]
    receiving.match_receipts(uow, [*planned, *expanded], out, now)
    picking.pick_scans(uow, picks, out, now)
    shipping.ship_scans(uow, catalog, packages_out, out, now)
    return out
