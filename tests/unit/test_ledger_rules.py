"""The ledger's rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from warehouse.catalog.domain import NegativePolicy, Product, Tracking
from warehouse.core.errors import InsufficientStock, RuleViolation
from warehouse.ingest import domain as sequences
from warehouse.stock.domain import ledger
from warehouse.stock.domain.model import (
    Flag,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    StockKey,
)

K = LocationKind
LOC = {
    code: Location(code, code, kind, id=i)
    for i, (code, kind) in enumerate(
        [
            ("SUPPLIER", K.SUPPLIER),
            ("CUSTOMER", K.CUSTOMER),
            ("LOSS", K.LOSS),
            ("TRANSIT", K.TRANSIT),
            ("BIN-1", K.BIN),
            ("BIN-2", K.BIN),
            ("DOCK", K.DOCK),
            ("REG", K.REGISTER),
        ],
        start=1,
    )
}


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        ("receive", (None, "DOCK"), ("SUPPLIER", "DOCK")),
        ("sale", ("REG", None), ("REG", "CUSTOMER")),
        ("ship", ("DOCK", None), ("DOCK", "CUSTOMER")),
        ("return", (None, "BIN-1"), ("CUSTOMER", "BIN-1")),
        ("adjust", ("BIN-1", None), ("BIN-1", "LOSS")),
        ("adjust", (None, "BIN-1"), ("LOSS", "BIN-1")),
        ("transfer", ("BIN-1", "BIN-2"), ("BIN-1", "BIN-2")),
    ],
)
def test_implied_sides(
    kind: str, given: tuple[str | None, str | None], expected: tuple[str, str]
) -> None:
    assert ledger.default_endpoints(MovementKind(kind), *given) == expected


@pytest.mark.parametrize(
    ("kind", "given", "field"),
    [
        ("transfer", ("BIN-1", None), "to_location"),
        ("pick", (None, "BIN-1"), "from_location"),
        ("adjust", (None, None), "from_location"),
    ],
)
def test_missing_side_names_the_field(
    kind: str, given: tuple[str | None, str | None], field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        ledger.default_endpoints(MovementKind(kind), *given)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kind", "src", "dst", "ok"),
    [
        ("receive", "SUPPLIER", "DOCK", True),
        ("receive", "TRANSIT", "BIN-1", True),
        ("receive", "BIN-1", "DOCK", False),
        ("receive", "SUPPLIER", "CUSTOMER", False),
        ("transfer", "BIN-1", "BIN-2", True),
        ("transfer", "BIN-1", "TRANSIT", True),
        ("transfer", "BIN-1", "CUSTOMER", False),
        ("transfer", "BIN-1", "BIN-1", False),
        ("sale", "REG", "CUSTOMER", True),
        ("sale", "REG", "LOSS", False),
        ("ship", "DOCK", "TRANSIT", True),
        ("return", "CUSTOMER", "BIN-1", True),
        ("return", "SUPPLIER", "BIN-1", False),
        ("adjust", "BIN-1", "LOSS", True),
        ("adjust", "LOSS", "BIN-1", True),
        ("adjust", "BIN-1", "BIN-2", False),
        ("pick", "BIN-1", "DOCK", True),
        ("pick", "SUPPLIER", "DOCK", False),
    ],
)
def test_routes(kind: str, src: str, dst: str, ok: bool) -> None:
    if ok:
        ledger.check_route(MovementKind(kind), LOC[src], LOC[dst])
    else:
        with pytest.raises(RuleViolation):
            ledger.check_route(MovementKind(kind), LOC[src], LOC[dst])


def test_quantities() -> None:
    counted, weighed = Product("A", "a"), Product("B", "b", unit="kg")
    serial = Product("C", "c", tracking=Tracking.SERIAL)
    ledger.check_quantity(counted, Decimal(3))
    ledger.check_quantity(weighed, Decimal("0.742"))
    ledger.check_quantity(serial, Decimal(1))
    for product, qty in ((counted, Decimal("2.5")), (counted, Decimal(0)), (serial, Decimal(2))):
        with pytest.raises(RuleViolation) as caught:
            ledger.check_quantity(product, qty)
        assert caught.value.field == "qty"


def test_tracking_flags() -> None:
    assert ledger.tracking_flags(Product("A", "a", tracking=Tracking.LOT), "", None) == [
        Flag.MISSING_LOT
    ]
    assert ledger.tracking_flags(Product("A", "a", tracking=Tracking.SERIAL), "", None) == [
        Flag.MISSING_SERIAL
    ]
    assert ledger.tracking_flags(Product("A", "a", tracking=Tracking.LOT), "L1", None) == []


def move(product: Product, qty: str, src: str, dst: str) -> Movement:
    return Movement(
        MovementKind.TRANSFER, product, Decimal(qty), LOC[src], LOC[dst], datetime.now(UTC)
    )


def test_running_balances_flag_floor_events_that_go_negative() -> None:
    product = Product("A", "a", id=7)
    moves = [move(product, "3", "BIN-1", "BIN-2"), move(product, "4", "BIN-1", "BIN-2")]
    deltas = ledger.apply_movements(
        moves, {StockKey(7, LOC["BIN-1"].id or 0): Decimal(5)}, enforce=False
    )
    assert moves[0].flags == []
    assert moves[1].flags == [Flag.NEGATIVE_STOCK]
    assert deltas == {StockKey(7, 5): Decimal(-7), StockKey(7, 6): Decimal(7)}


def test_virtual_locations_go_negative_silently() -> None:
    product = Product("A", "a", id=7)
    receipt = Movement(
        MovementKind.RECEIVE, product, Decimal(5), LOC["SUPPLIER"], LOC["DOCK"], datetime.now(UTC)
    )
    ledger.apply_movements([receipt], {}, enforce=True)
    assert receipt.flags == []


def test_commands_are_refused_under_block_and_allowed_under_allow() -> None:
    blocked = Product("A", "a", id=7)
    with pytest.raises(InsufficientStock, match="1 on hand, 2 requested"):
        ledger.apply_movements(
            [move(blocked, "2", "BIN-1", "BIN-2")], {StockKey(7, 5): Decimal(1)}, enforce=True
        )
    allowed = Product("B", "b", id=8, negative_policy=NegativePolicy.ALLOW)
    m = move(allowed, "2", "BIN-1", "BIN-2")
    ledger.apply_movements([m], {}, enforce=True)
    assert m.flags == [Flag.NEGATIVE_STOCK]


def test_a_location_policy_wins_over_the_product() -> None:
    product = Product("A", "a", id=7)
    lenient = Location("BIN-9", "x", K.BIN, negative_policy=NegativePolicy.ALLOW, id=99)
    assert ledger.effective_policy(product, lenient) is NegativePolicy.ALLOW
    assert ledger.effective_policy(product, LOC["BIN-1"]) is NegativePolicy.BLOCK


@pytest.mark.parametrize(
    ("acked", "seqs", "expected"),
    [
        (0, [], (0, [])),
        (0, [1, 2, 3], (3, [])),
        (0, [3, 1, 2], (3, [])),
        (0, [2], (0, [(1, 1)])),
        (4, [5, 6, 9, 10, 12], (6, [(7, 8), (11, 11)])),
        (6, [1, 2, 6], (6, [])),
        (0, [1, 1, 2, 2], (2, [])),
    ],
)
def test_sequence_watermark_and_gaps(
    acked: int, seqs: list[int], expected: tuple[int, list[tuple[int, int]]]
) -> None:
    assert sequences.advance(acked, seqs) == expected


@pytest.mark.parametrize(
    ("acked", "seqs", "expected"),
    [
        (0, [], 0),
        (0, [1, 2, 3], 3),
        (4, [7, 5, 6, 3], 7),
        (4, [6, 7], 4),
        (4, [5, 5, 6, 8], 6),
    ],
)
def test_a_batch_carries_the_watermark_over_its_own_seqs(
    acked: int, seqs: list[int], expected: int
) -> None:
    end = sequences.contiguous_end(acked, seqs)
    assert end == expected
    # what it reaches is what advance() reaches over the same seqs
    assert sequences.advance(acked, seqs)[0] == end
