"""The pure rules of orders: receipt matching, allocation order, pick plans, SSCCs, and how
feedback is summed up per device."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from warehouse.floor.outcome import Feedback, per_device
from warehouse.orders import domain as orders
from warehouse.orders.domain import Allocation, OpenLine, PickProblem, PickRefused
from warehouse.stock.domain.allocation import Bin, allocate

D = Decimal


def line(line_id: int, ref: str, expected: int, received: int = 0, day: int | None = None,
         lot: str = "") -> OpenLine:  # fmt: skip
    return OpenLine(line_id, ref, 1, D(expected), D(received),
                    date(2026, 12, day) if day else None, lot)  # fmt: skip


def test_receipts_fill_the_oldest_expected_line_first_and_book_the_rest_as_over() -> None:
    lines = orders.receipt_order([line(1, "PO-B", 5, day=20), line(2, "PO-A", 5, day=10),
                                  line(3, "PO-C", 5)])  # fmt: skip
    assert [x.order_ref for x in lines] == ["PO-A", "PO-B", "PO-C"]  # no date: last
    taken, over = orders.match_receipt(D(7), "", lines)
    assert [(x.order_ref, q) for x, q in taken] == [("PO-A", 5), ("PO-B", 2)]
    assert over == 0
    full = [line(1, "PO-A", 5, 5)]
    taken, over = orders.match_receipt(D(3), "", full)
    assert ([(x.order_ref, q) for x, q in taken], over) == ([("PO-A", 3)], 3)


def test_a_line_with_a_lot_takes_that_lot_only() -> None:
    lines = [line(1, "PO-A", 5, lot="L1")]
    assert orders.match_receipt(D(2), "L2", lines) == ([], D(2))
    assert orders.match_receipt(D(2), "L1", lines)[0][0][1] == 2


def test_fefo_takes_the_first_expiry_and_fifo_the_oldest_stock() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    bins = [Bin(1, "A-01", "L1", D(4), date(2027, 3, 1), early),
            Bin(2, "A-02", "L2", D(4), date(2027, 1, 1), late)]  # fmt: skip
    taken, short = allocate(D(6), bins, fefo=True)
    assert [(b.location_code, q) for b, q in taken] == [("A-02", 4), ("A-01", 2)]
    taken, short = allocate(D(9), bins, fefo=False)
    assert [(b.location_code, q) for b, q in taken] == [("A-01", 4), ("A-02", 4)]
    assert short == 1


def task(location: int, code: str, qty: int, lot: str = "") -> Allocation:
    return Allocation(location, 1, 1, 7, "TEA", location, code, lot, D(qty), D(5), D(0))


def test_a_pick_plan_settles_tasks_or_names_what_is_wrong() -> None:
    tasks = [task(1, "A-01", 3), task(2, "A-02", 2, lot="L2")]
    plan = orders.plan_pick("SO-1", tasks, 7, "TEA", 1, "A-01", "", D(2))
    assert [(t.location_code, q) for t, q in plan] == [("A-01", 2)]  # type: ignore[union-attr]
    cases = [
        (8, 1, "", 1, PickProblem.WRONG_ITEM, "OTHER is not on SO-1"),
        (7, 9, "", 1, PickProblem.WRONG_LOCATION, "SO-1: pick TEA from A-01, A-02, not B-09"),
        (7, 2, "L9", 1, PickProblem.WRONG_LOT, "SO-1: TEA lot L2 here, not L9"),
        (7, 1, "", 4, PickProblem.OVER_PICK, "SO-1: 4 x TEA scanned, 3 left to pick at A-01"),
    ]
    for product, place, lot, qty, problem, text in cases:
        code = {1: "A-01", 2: "A-02", 9: "B-09"}[place]
        sku = "TEA" if product == 7 else "OTHER"
        refused = orders.plan_pick("SO-1", tasks, product, sku, place, code, lot, D(qty))
        assert refused == PickRefused(problem, text)


@pytest.mark.parametrize(
    ("extension", "prefix", "serial", "sscc"),
    [
        (1, "0614141", 123456789, "106141411234567897"),  # GS1's own example
        (0, "0614141", 1, "006141410000000012"),
    ],
)
def test_ssccs_carry_the_gs1_check_digit(
    extension: int, prefix: str, serial: int, sscc: str
) -> None:
    assert orders.make_sscc(extension, prefix, serial) == sscc


def test_an_sscc_series_that_is_used_up_or_a_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="used up"):
        orders.make_sscc(0, "061414112345", 10**4)
    with pytest.raises(ValueError, match="6 to 12 digits"):
        orders.make_sscc(0, "12AB", 1)


def test_feedback_is_one_command_per_device_and_batch_with_the_worst_level() -> None:
    def fb(level: str, text: str, device: str = "s1") -> Feedback:
        return Feedback("WH1", "a1", level, text, device)

    single = [fb("ok", "one")]
    assert per_device(single) == single
    burst = [fb("ok", "a"), fb("error", "b"), fb("ok", "c"), fb("ok", "x", "s2")]
    assert [(f.device, f.level, f.text) for f in per_device(burst)] == [
        ("s1", "error", "b (+2 more scans)"),
        ("s2", "ok", "x"),
    ]
