"""A reservation past its hold is released by the ingest worker itself: nobody calls the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.helpers import wait_for
from warehouse.access.adapters import tables as access_tables
from warehouse.bootstrap import Service
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.service import fulfilment
from warehouse.orders.service.fulfilment import SalesOrderRequest
from warehouse.orders.service.receiving import LineRequest
from warehouse.stock.adapters import stock_queries
from warehouse.stock.service.commands import ManualMovement, MovementRequest
from warehouse.stock.service.movements import record_movement

pytestmark = pytest.mark.mosquitto


@pytest.mark.parametrize("ingest", [{"reservation_check_s": 0.2}], indirect=True)
def test_the_worker_releases_a_hold_that_ran_out(seeded: Service, ingest: object) -> None:
    now = datetime.now(UTC)
    receipt = MovementRequest(kind="receive", qty=Decimal(5), sku="TEA-GRN", to_location="WH1-A-01")
    record_movement(seeded.uow(), seeded.catalog, ManualMovement(receipt), now)
    for ref in ("SO-HOLD", "SO-KEEP"):
        fulfilment.create_sales_order(
            seeded.uow(),
            SalesOrderRequest(
                ref, "WH1", "Cafe", [LineRequest("TEA-GRN", Decimal(2))], reserve_minutes=60
            ),
            now,
        )
        fulfilment.confirm(seeded.uow(), ref, "test", now)
    so = orders_tables.sales_orders
    with seeded.engine.begin() as conn:  # SO-HOLD's hour is up
        conn.execute(
            update(so)
            .where(so.c.ref == "SO-HOLD")
            .values(reserved_until=now - timedelta(seconds=1))
        )

    def status(ref: str) -> str:
        with seeded.engine.connect() as conn:
            return str(conn.execute(select(so.c.status).where(so.c.ref == ref)).scalar_one())

    wait_for(lambda: status("SO-HOLD") == "expired", timeout=15)
    assert status("SO-KEEP") == "confirmed"
    with seeded.engine.connect() as conn:
        tea = stock_queries.stock_for_sku(conn, "TEA-GRN")
        audit = conn.execute(
            select(access_tables.audit_log.c.actor, access_tables.audit_log.c.action).where(
                access_tables.audit_log.c.action == "sales_order.expire"
            )
        ).all()
    assert (tea["on_hand"], tea["reserved"], tea["available"]) == (5, 2, 3)
    assert [tuple(a) for a in audit] == [("system:reservations", "sales_order.expire")]
