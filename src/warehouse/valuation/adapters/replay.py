"""The ledger replayed through costing: how databases whose movements were recorded before
valuation existed (or whose costs changed by hand) get their layers and entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from warehouse.catalog.adapters.repository import SqlProducts
from warehouse.catalog.domain import Product
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.locations import SqlLocations
from warehouse.stock.domain.model import Location, Movement, MovementKind
from warehouse.valuation.adapters import tables
from warehouse.valuation.adapters.costs import SqlCosts
from warehouse.valuation.service.costing import Costing

M = stock_tables.movements


class Replay:
    """Rebuilds valuation from the ledger, a page of movements per transaction."""

    def __init__(self, page: int = 5000) -> None:
        self.page = page
        self._products: dict[int, Product] = {}
        self._locations: dict[int, Location] = {}

    def clear(self, conn: Connection) -> int:
        """Forget every entry and layer; return how many movements there are to replay."""
        conn.execute(delete(tables.valuation_entries))
        conn.execute(delete(tables.cost_positions))
        return int(conn.execute(select(func.count()).select_from(M)).scalar_one())

    def pages(self, connect: Iterator[Connection], at: datetime) -> Iterator[int]:
        """Replay page after page (each on the next connection ``connect`` gives, in its own
        transaction); yield how many movements each replayed."""
        after = 0
        for conn in connect:
            movements, ids = self._read(conn, after)
            if not movements:
                return
            Costing(SqlCosts(conn)).record(movements, ids, at)
            after = ids[-1]
            yield len(ids)

    def _read(self, conn: Connection, after: int) -> tuple[list[Movement], list[int]]:
        rows = conn.execute(select(M).where(M.c.id > after).order_by(M.c.id).limit(self.page)).all()
        products, places = SqlProducts(conn), SqlLocations(conn)
        movements = []
        for r in rows:
            if r.product_id not in self._products:
                product = products.by_id(r.product_id)
                assert product is not None  # a foreign key keeps it
                self._products[r.product_id] = product
            for location_id in (r.from_location_id, r.to_location_id):
                if location_id not in self._locations:
                    place = places.by_id(location_id)
                    assert place is not None
                    self._locations[location_id] = place
            movements.append(
                Movement(
                    kind=MovementKind(r.kind),
                    product=self._products[r.product_id],
                    qty=r.qty,
                    source=self._locations[r.from_location_id],
                    destination=self._locations[r.to_location_id],
                    occurred_at=r.occurred_at,
                    lot=r.lot,
                    order_ref=r.order_ref,
                )
            )
        return movements, [r.id for r in rows]
