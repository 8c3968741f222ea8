"""Orders against SQLite and PostgreSQL: receipts matched to purchase orders (by line, by
SSCC), sales orders reserved, picked by scan (wrong picks refused), packed and shipped; the
exceptions queue; reservations that expire by themselves; concurrent confirmations."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, select

from tests.helpers import events_topic, movement_payload
from warehouse.bootstrap import Service
from warehouse.catalog.domain import gs1_check_digit
from warehouse.core.errors import Conflict, InsufficientStock, RuleViolation
from warehouse.exceptions.adapters import tables as exceptions_tables
from warehouse.exceptions.domain import Resolution
from warehouse.exceptions.service import queue
from warehouse.ingest.service.commands import IngestResult
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import stored_event, translate
from warehouse.orders.adapters import tables as orders_tables
from warehouse.orders.domain import Shortage
from warehouse.orders.service import fulfilment, receiving, shipping
from warehouse.orders.service.fulfilment import SalesOrderRequest
from warehouse.orders.service.receiving import LineRequest, PurchaseOrderRequest
from warehouse.orders.service.shipping import SsccSeries
from warehouse.stock.adapters import stock_queries
from warehouse.stock.adapters.projection import differences

SITE, DOCK, PICKER = "WH1", "dock-1", "picker-1"
ASN_SSCC = "106141411234567897"  # GS1's example SSCC
SERIES = SsccSeries("0614141")
TEA, PASTA, RICE, WATER = "5901230001025", "5901230001087", "5901230001094", "5901230001070"


class Floor:
    """Sends events as agents would (each agent its own seq)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.seqs: dict[str, int] = {}

    def send(self, agent: str, **data: object) -> IngestResult:
        self.seqs[agent] = self.seqs.get(agent, 0) + 1
        payload = movement_payload(SITE, agent, self.seqs[agent], lot=None, **data)
        item = translate(events_topic(SITE, agent), payload, 256 * 1024)
        return ingest_batch(self.service.uow(), self.service.catalog, [item], datetime.now(UTC))

    def receive(self, code: str, qty: int = 1, order: str | None = None) -> IngestResult:
        return self.send(
            DOCK, kind="receive", code=code, qty=qty, to_location="WH1-DOCK-1", order_ref=order
        )

    def pick(self, order: str, code: str, source: str, qty: int = 1) -> IngestResult:
        return self.send(
            PICKER,
            kind="pick",
            code=code,
            qty=qty,
            from_location=source,
            to_location="WH1-PACK",
            order_ref=order,
        )


def on_hand(conn: Connection, sku: str, location: str) -> tuple[Decimal, Decimal]:
    rows = stock_queries.stock(
        conn, sku=sku, location=location, include_zero=True, include_virtual=True, limit=100
    ).items
    return (
        sum((r["on_hand"] for r in rows), Decimal(0)),
        sum((r["reserved"] for r in rows), Decimal(0)),
    )


def open_exceptions(conn: Connection) -> list[tuple[str, str | None]]:
    x = exceptions_tables.floor_exceptions
    return [
        (r.kind, r.sku)
        for r in conn.execute(
            select(x.c.kind, x.c.sku).where(x.c.status == "open").order_by(x.c.id)
        )
    ]


def told(result: IngestResult) -> list[tuple[str, str]]:
    return [(f.level, f.text) for f in result.feedback]


def stock_in(seeded: Service, code: str, location: str, qty: int) -> None:
    floor = Floor(seeded)
    floor.send("putaway-1", kind="receive", code=code, qty=qty, to_location=location)


def test_receipts_match_the_purchase_order_and_its_packages(seeded: Service) -> None:
    now = datetime.now(UTC)
    receiving.create_purchase_order(
        seeded.uow(),
        PurchaseOrderRequest(
            "PO-1",
            SITE,
            "Tea Co",
            [
                LineRequest("TEA-GRN", Decimal(10)),
                LineRequest("PST-500", Decimal(5)),
                LineRequest("RIC-1K", Decimal(4)),
            ],
            packages={ASN_SSCC: [LineRequest("RIC-1K", Decimal(4))]},
        ),
        now,
    )
    floor = Floor(seeded)
    assert told(floor.receive(TEA, 10, "PO-1")) == [("ok", "PO-1 line 1: 10 of 10")]
    assert told(floor.receive(PASTA, 3, "PO-1")) == [("ok", "PO-1 line 2: 3 of 5")]
    assert told(floor.receive(WATER, 2, "PO-1")) == [("warn", "unexpected: WTR-6 is not on PO-1")]
    assert told(floor.receive("00" + ASN_SSCC)) == [
        ("ok", f"package {ASN_SSCC}: 1 lines received for PO-1")
    ]
    assert told(floor.receive("00" + ASN_SSCC))[0][0] == "warn"  # scanned twice: once only
    unknown = "00" + "106141410000000019"
    assert told(floor.receive(unknown)) == [("error", "unknown package 106141410000000019")]
    assert receiving.close_purchase_order(seeded.uow(), "PO-1", "user:boss", now) == 1
    with seeded.engine.connect() as conn:
        order = orders_tables.purchase_orders
        assert conn.execute(select(order.c.status)).scalar_one() == "closed"
        lines = orders_tables.purchase_order_lines
        assert [
            r.received for r in conn.execute(select(lines.c.received).order_by(lines.c.line_no))
        ] == [10, 3, 4]
        assert on_hand(conn, "RIC-1K", "WH1-DOCK-1") == (4, 0)
        assert on_hand(conn, "WTR-6", "WH1-DOCK-1") == (2, 0)
        assert open_exceptions(conn) == [
            ("unexpected_item", "WTR-6"),
            ("unknown_sscc", None),
            ("short_receipt", "PST-500"),
        ]
        assert differences(conn) == {}


def test_a_receipt_without_an_order_goes_to_the_oldest_open_line(seeded: Service) -> None:
    now = datetime.now(UTC)
    for ref, day in (("PO-LATE", 20), ("PO-SOON", 10)):
        receiving.create_purchase_order(
            seeded.uow(),
            PurchaseOrderRequest(
                ref,
                SITE,
                "Tea Co",
                [LineRequest("TEA-GRN", Decimal(5))],
                expected_date=(now + timedelta(days=day)).date(),
            ),
            now,
        )
    floor = Floor(seeded)
    assert told(floor.receive(TEA, 7)) == [("ok", "PO-SOON line 1: 5 of 5")]
    assert told(floor.receive(TEA, 4)) == [("warn", "PO-LATE line 1: 6 of 5 (1 over)")]
    with seeded.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(orders_tables.purchase_orders.c.ref, orders_tables.purchase_orders.c.status)
            ).all()
        )
        assert statuses == {"PO-SOON": "received", "PO-LATE": "received"}
        assert open_exceptions(conn) == [("over_receipt", "TEA-GRN")]


def test_a_sales_order_is_reserved_picked_by_scan_packed_and_shipped(seeded: Service) -> None:
    now = datetime.now(UTC)
    stock_in(seeded, TEA, "WH1-A-01", 4)
    stock_in(seeded, TEA, "WH1-A-02", 10)
    fulfilment.create_sales_order(
        seeded.uow(),
        SalesOrderRequest("SO-1", SITE, "Cafe", [LineRequest("TEA-GRN", Decimal(6))]),
        now,
    )
    fulfilment.confirm(seeded.uow(), "SO-1", "user:boss", now)
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-A-01") == (4, 4)  # first in, first out
        assert on_hand(conn, "TEA-GRN", "WH1-A-02") == (10, 2)
    floor = Floor(seeded)
    assert told(floor.pick("SO-1", PASTA, "WH1-A-01")) == [("error", "PST-500 is not on SO-1")]
    assert told(floor.pick("SO-1", TEA, "WH1-B-01")) == [
        ("error", "SO-1: pick TEA-GRN from WH1-A-01, WH1-A-02, not WH1-B-01")
    ]
    assert told(floor.pick("SO-1", TEA, "WH1-A-01", 5)) == [
        ("error", "SO-1: 5 x TEA-GRN scanned, 4 left to pick at WH1-A-01")
    ]
    assert told(floor.pick("SO-1", TEA, "WH1-A-01", 4)) == [("ok", "SO-1 line 1: 4 of 6 picked")]
    assert told(floor.pick("SO-1", TEA, "WH1-A-02", 2)) == [("ok", "SO-1 line 1: 6 of 6 picked")]
    assert told(floor.pick("SO-1", TEA, "WH1-A-02", 1))[0] == (
        "error",
        "SO-1: TEA-GRN is picked in full",
    )
    sscc = shipping.pack(seeded.uow(), "SO-1", SERIES, "user:packer", now)
    assert sscc == "006141410000000012"
    assert gs1_check_digit(sscc[:17]) == int(sscc[17])
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-PACK") == (6, 6)
        assert on_hand(conn, "TEA-GRN", "WH1-A") == (8, 0)
        status = conn.execute(select(orders_tables.sales_orders.c.status)).scalar_one()
        assert status == "packed"
        kinds = [k for k, _ in open_exceptions(conn)]
        assert kinds == ["wrong_item", "wrong_location", "over_pick", "over_pick"]
    shipped = floor.send("ship-1", kind="ship", code="00" + sscc, from_location="WH1-SHIP")
    assert told(shipped) == [("ok", f"SO-1: package {sscc} shipped")]
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-PACK") == (0, 0)
        assert on_hand(conn, "TEA-GRN", "CUSTOMER")[0] == 6
        assert conn.execute(select(orders_tables.sales_orders.c.status)).scalar_one() == "shipped"
        assert differences(conn) == {}


def test_short_stock_backorders_or_refuses(seeded: Service) -> None:
    now = datetime.now(UTC)
    stock_in(seeded, TEA, "WH1-A-01", 3)
    for ref, shortage in (("SO-B", Shortage.BACKORDER), ("SO-R", Shortage.REFUSE)):
        fulfilment.create_sales_order(
            seeded.uow(),
            SalesOrderRequest(
                ref, SITE, "Cafe", [LineRequest("TEA-GRN", Decimal(5))], shortage=shortage
            ),
            now,
        )
    fulfilment.confirm(seeded.uow(), "SO-B", "u", now)
    with pytest.raises(InsufficientStock, match=r"lines\[0\]: TEA-GRN is short by 5"):
        fulfilment.confirm(seeded.uow(), "SO-R", "u", now)
    with seeded.engine.connect() as conn:
        line = orders_tables.sales_order_lines
        rows = conn.execute(select(line.c.reserved, line.c.backordered).order_by(line.c.id)).all()
        assert [tuple(r) for r in rows] == [(3, 2), (0, 0)]
    with pytest.raises(Conflict):
        fulfilment.confirm(seeded.uow(), "SO-B", "u", now)


def test_a_reservation_past_its_hold_is_released(seeded: Service) -> None:
    now = datetime.now(UTC)
    stock_in(seeded, TEA, "WH1-A-01", 5)
    fulfilment.create_sales_order(
        seeded.uow(),
        SalesOrderRequest(
            "SO-X", SITE, "Cafe", [LineRequest("TEA-GRN", Decimal(5))], reserve_minutes=30
        ),
        now,
    )
    fulfilment.confirm(seeded.uow(), "SO-X", "u", now)
    assert fulfilment.release_expired(seeded.uow(), now + timedelta(minutes=29)) == []
    assert fulfilment.release_expired(seeded.uow(), now + timedelta(minutes=31)) == ["SO-X"]
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-A-01") == (5, 0)
        assert conn.execute(select(orders_tables.sales_orders.c.status)).scalar_one() == "expired"
    fulfilment.confirm(seeded.uow(), "SO-X", "u", now)  # an expired order can be confirmed again
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-A-01") == (5, 5)


def test_an_unknown_code_linked_from_the_queue_applies_its_event(seeded: Service) -> None:
    floor = Floor(seeded)
    result = floor.receive("SUPPLIER-CODE-77", 3)
    assert result.rejected == 1
    assert told(result)[0][0] == "error"
    with seeded.engine.connect() as conn:
        (exception_id,) = conn.execute(select(exceptions_tables.floor_exceptions.c.id)).scalars()
    with pytest.raises(RuleViolation, match="resolved by link_code, dismiss"):
        queue.resolve(
            seeded.uow(),
            seeded.catalog,
            exception_id,
            queue.ResolveRequest(Resolution.ADJUST, "user:boss"),
            datetime.now(UTC),
            stored_event,
        )
    done = queue.resolve(
        seeded.uow(),
        seeded.catalog,
        exception_id,
        queue.ResolveRequest(Resolution.LINK_CODE, "user:boss", sku="TEA-GRN"),
        datetime.now(UTC),
        stored_event,
    )
    assert done["status"] == "resolved"
    assert len(done["movement_ids"]) == 1  # type: ignore[arg-type]
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "TEA-GRN", "WH1-DOCK-1") == (3, 0)
        assert open_exceptions(conn) == []
    assert floor.receive("SUPPLIER-CODE-77", 1).applied == 1  # the code finds TEA-GRN now
    with pytest.raises(Conflict):
        queue.resolve(
            seeded.uow(),
            seeded.catalog,
            exception_id,
            queue.ResolveRequest(Resolution.DISMISS, "u", note="x"),
            datetime.now(UTC),
            stored_event,
        )


def test_concurrent_confirmations_never_reserve_more_than_there_is(seeded: Service) -> None:
    if seeded.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race is PostgreSQL's")
    now = datetime.now(UTC)
    for round_ in range(3):
        stock_in(seeded, WATER, "WH1-B-01", 6)
        stock_in(seeded, WATER, "WH1-B-02", 4)
        refs = [f"SO-{round_}-{n}" for n in range(20)]
        for ref in refs:
            fulfilment.create_sales_order(
                seeded.uow(),
                SalesOrderRequest(
                    ref, SITE, "Cafe", [LineRequest("WTR-6", Decimal(1))], shortage=Shortage.REFUSE
                ),
                now,
            )
        errors: list[Exception] = []
        barrier = threading.Barrier(len(refs))

        def confirm(
            ref: str, barrier: threading.Barrier = barrier, errors: list[Exception] = errors
        ) -> None:
            barrier.wait()
            try:
                fulfilment.confirm(seeded.uow(), ref, "u", now)
            except InsufficientStock as exc:
                errors.append(exc)

        threads = [threading.Thread(target=confirm, args=(r,)) for r in refs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with seeded.engine.connect() as conn:
            held, reserved = on_hand(conn, "WTR-6", "WH1-B")
            confirmed = (
                conn.execute(
                    select(orders_tables.sales_orders.c.ref).where(
                        orders_tables.sales_orders.c.status == "confirmed",
                        orders_tables.sales_orders.c.ref.in_(refs),
                    )
                )
                .scalars()
                .all()
            )
        assert (held, reserved) == (10 * (round_ + 1), 10 * (round_ + 1))
        assert (len(confirmed), len(errors)) == (10, 10)


def test_a_package_is_received_from_its_sscc_96_tag(seeded: Service) -> None:
    sscc, tag = (
        "106141412345678908",
        "3114257BF4499602D2000000",
    )  # urn:epc:id:sscc:0614141.1234567890
    receiving.create_purchase_order(
        seeded.uow(),
        PurchaseOrderRequest(
            "PO-RF",
            SITE,
            "Rice Ltd",
            [LineRequest("RIC-1K", Decimal(6))],
            packages={sscc: [LineRequest("RIC-1K", Decimal(6))]},
        ),
        datetime.now(UTC),
    )
    floor = Floor(seeded)
    result = floor.send(DOCK, kind="receive", epc=tag, to_location="WH1-DOCK-1")
    assert told(result) == [("ok", f"package {sscc}: 1 lines received for PO-RF")]
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "RIC-1K", "WH1-DOCK-1") == (6, 0)
        assert (
            conn.execute(select(orders_tables.purchase_orders.c.status)).scalar_one() == "received"
        )


def test_a_rejection_the_columns_cannot_hold_is_still_queued(seeded: Service) -> None:
    floor = Floor(seeded)
    result = floor.receive(TEA, 10**14)  # beyond what the contract (and a column) holds
    assert (result.rejected, result.acks) == (1, {(SITE, DOCK): 1})
    with seeded.engine.connect() as conn:
        x = exceptions_tables.floor_exceptions
        (row,) = conn.execute(select(x.c.kind, x.c.qty, x.c.detail)).all()
    assert (row.kind, row.qty) == ("rejected_event", None)
    assert row.detail.startswith("invalid_message: field 'data.qty'")


def test_packing_before_everything_is_picked_is_an_under_pick(seeded: Service) -> None:
    now = datetime.now(UTC)
    stock_in(seeded, TEA, "WH1-A-01", 5)
    fulfilment.create_sales_order(
        seeded.uow(),
        SalesOrderRequest("SO-U", SITE, "Cafe", [LineRequest("TEA-GRN", Decimal(5))]),
        now,
    )
    fulfilment.confirm(seeded.uow(), "SO-U", "u", now)
    Floor(seeded).pick("SO-U", TEA, "WH1-A-01", 3)
    shipping.pack(seeded.uow(), "SO-U", SERIES, "u", now)
    with seeded.engine.connect() as conn:
        assert open_exceptions(conn) == [("under_pick", "TEA-GRN")]
        x = exceptions_tables.floor_exceptions
        assert conn.execute(select(x.c.qty)).scalar_one() == 2


def test_a_sales_order_reserves_first_expiry_first_and_never_an_expired_lot(
    seeded: Service,
) -> None:
    now = datetime.now(UTC)
    today = now.date()
    milk = "0105901230001049"
    for lot, days, location in (("OLD", -1, "WH1-A-01"), ("LATE", 60, "WH1-A-02"),
                                ("SOON", 20, "WH1-A-03")):  # fmt: skip
        expiry = (today + timedelta(days=days)).strftime("%y%m%d")
        stock_in(seeded, f"{milk}17{expiry}10{lot}", location, 4)
    fulfilment.create_sales_order(
        seeded.uow(),
        SalesOrderRequest("SO-M", SITE, "Cafe", [LineRequest("MLK-1L", Decimal(10))]),
        now,
    )
    fulfilment.confirm(seeded.uow(), "SO-M", "u", now)
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "MLK-1L", "WH1-A-03") == (4, 4)  # SOON first
        assert on_hand(conn, "MLK-1L", "WH1-A-02") == (4, 4)  # then LATE
        assert on_hand(conn, "MLK-1L", "WH1-A-01") == (4, 0)  # OLD is past its expiry
        line = orders_tables.sales_order_lines
        assert conn.execute(select(line.c.backordered)).scalar_one() == 2
