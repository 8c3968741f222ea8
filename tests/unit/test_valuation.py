"""Costing against hand-worked examples: FIFO layers, moving average, standard cost with its
variance, deficits filled later, returns at their sale cost, transfers that carry their value;
and the valuation identity over a generated year of random flows."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from warehouse.valuation.domain import (
    Entry,
    EntryKind,
    Flow,
    Method,
    Origins,
    Position,
    Source,
    cost,
)

K = EntryKind
D = Decimal
P = 7  # the product


class Book:
    """Positions, the origins of costs, and every entry, as a site's ledger would keep them."""

    def __init__(self, method: Method, standard: int | None = None) -> None:
        self.method, self.standard = method, standard
        self.positions: dict[tuple[int, str], Position] = {}
        self.transfers: Origins = {}
        self.sales: Origins = {}
        self.entries: list[Entry] = []

    def run(self, *flows: Flow) -> list[Entry]:
        for flow in flows:
            for site in (flow.out_site, flow.in_site):
                if site is not None and (flow.product_id, site) not in self.positions:
                    self.positions[(flow.product_id, site)] = Position(
                        flow.product_id, site, self.method, self.standard
                    )
        made = cost(flows, self.positions, self.transfers, self.sales)
        self.entries += made
        return made

    def value(self, site: str = "WH1") -> int:
        return self.positions[(P, site)].value

    def qty(self, site: str = "WH1") -> Decimal:
        return self.positions[(P, site)].qty


def receipt(qty: str, unit: int | None = None, site: str = "WH1") -> Flow:
    cost_ = D(unit) if unit is not None else None
    return Flow(0, P, D(qty), None, None, site, K.RECEIPT, unit_cost=cost_)


def sale(qty: str, ref: str | None = None, site: str = "WH1") -> Flow:
    return Flow(0, P, D(qty), site, K.COGS, None, None, ref)


def returned(qty: str, ref: str, site: str = "WH1") -> Flow:
    return Flow(0, P, D(qty), None, None, site, K.COGS, ref)


def loss(qty: str, site: str = "WH1") -> Flow:
    return Flow(0, P, D(qty), site, K.WRITEOFF, None, None)


def found(qty: str, site: str = "WH1") -> Flow:
    return Flow(0, P, D(qty), None, None, site, K.WRITEOFF)


def dispatch(qty: str, ref: str, site: str = "WH1") -> Flow:
    return Flow(0, P, D(qty), site, K.TRANSFER_OUT, None, None, ref)


def arrive(qty: str, ref: str, site: str = "ST1") -> Flow:
    return Flow(0, P, D(qty), None, None, site, K.TRANSFER_IN, ref)


def test_fifo_takes_the_oldest_layers_first_and_carries_their_cost() -> None:
    book = Book(Method.FIFO)
    book.run(receipt("10", 100), receipt("10", 120))
    assert book.value() == 2200
    (sold,) = book.run(sale("15", "S-1"))
    assert (sold.kind, sold.qty, sold.value, sold.source) == (K.COGS, D(-15), -1600, Source.LAYERS)
    assert book.value() == 5 * 120
    # three come back: at what the sale cost them (1600 / 15 each), not at today's cost
    (back,) = book.run(returned("3", "S-1"))
    assert (back.value, back.source) == (320, Source.SALE)
    assert book.value() == 600 + 320
    # counted two short: from the oldest layer (120 each)
    (short,) = book.run(loss("2"))
    assert (short.kind, short.value) == (K.WRITEOFF, -240)
    # four to the store: 3 at 120 and one of the returned (320 / 3 = 106.67 -> 107)
    (out,) = book.run(dispatch("4", "T-1"))
    assert out.value == -(360 + 107)
    (into,) = book.run(arrive("4", "T-1"))
    assert (into.kind, into.value, into.source) == (K.TRANSFER_IN, 467, Source.TRANSFER)
    assert book.value("ST1") == 467
    assert book.value() == 320 - 107
    assert book.qty() == 2


def test_moving_average_moves_with_each_receipt() -> None:
    book = Book(Method.AVERAGE)
    book.run(receipt("10", 100), receipt("10", 120))
    assert len(book.positions[(P, "WH1")].layers) == 1
    (sold,) = book.run(sale("15"))
    assert sold.value == -1650  # 15 x 110
    assert book.value() == 550
    book.run(receipt("5", 130))
    assert book.value() == 1200  # 10 at 120
    (sold,) = book.run(sale("10"))
    assert sold.value == -1200  # the last units take exactly what is left
    assert book.value() == 0


def test_standard_cost_values_at_standard_and_records_the_variance() -> None:
    book = Book(Method.STANDARD, standard=100)
    (into,) = book.run(receipt("10", 120))
    assert (into.value, into.variance, into.source) == (1000, 200, Source.PO)
    (plain,) = book.run(receipt("2"))  # no order: at standard, no variance
    assert (plain.value, plain.variance, plain.source) == (200, 0, Source.STANDARD)
    (sold,) = book.run(sale("4"))
    assert sold.value == -400
    assert book.value() == 800


def test_a_shortfall_is_valued_at_the_last_cost_and_settled_by_the_next_receipt() -> None:
    book = Book(Method.AVERAGE)
    book.run(receipt("1", 100))
    (sold,) = book.run(sale("3"))
    assert (sold.value, sold.source) == (-300, Source.ESTIMATE)
    assert (book.qty(), book.value()) == (D(-2), -200)
    into, adjust = book.run(receipt("5", 130))
    assert (into.value, adjust.kind, adjust.value) == (650, K.ADJUSTMENT, -60)
    assert (book.qty(), book.value()) == (D(3), 390)
    assert sum(e.value for e in book.entries) == book.value()


def test_found_stock_comes_in_at_the_last_cost_and_a_first_receipt_without_cost_says_so() -> None:
    book = Book(Method.FIFO)
    (nothing,) = book.run(receipt("2"))
    assert (nothing.value, nothing.source) == (0, Source.NONE)
    book.run(receipt("4", 50), sale("6"))
    (more,) = book.run(found("1"))
    assert (more.kind, more.value, more.source) == (K.WRITEOFF, 50, Source.LAST)


def test_a_move_between_two_sites_carries_its_value_in_one_flow() -> None:
    book = Book(Method.FIFO)
    book.run(receipt("4", 250))
    out, into = book.run(Flow(0, P, D("3"), "WH1", K.TRANSFER_OUT, "ST1", K.TRANSFER_IN))
    assert (out.value, into.value) == (-750, 750)


def test_fractions_round_half_even_and_parts_add_up_to_the_whole() -> None:
    book = Book(Method.AVERAGE)
    book.run(receipt("3", 1))  # 3 units worth 3 minor units
    book.run(receipt("0.5", 3))  # 1.5 -> 2 (half-even)
    assert book.value() == 5
    parts = [book.run(sale("1.1"))[0].value for _ in range(3)]
    parts.append(book.run(sale("0.2"))[0].value)
    assert -sum(parts) == 5
    assert book.qty() == 0


@pytest.mark.parametrize("method", list(Method))
def test_a_generated_year_adds_up_to_its_closing_value(method: Method) -> None:
    """opening + receipts - COGS - write-offs +/- transfers = closing, per site, for a year of
    random flows (negative stock included), with no position holding a deficit beside layers."""
    rng = random.Random(f"year-{method}")
    book = Book(method, standard=90 if method is Method.STANDARD else None)
    sites = ("WH1", "ST1", "ST2")
    for day in range(365):
        for n in range(rng.randint(1, 8)):
            site, other = rng.sample(sites, 2)
            qty = str(rng.randint(1, 40))
            ref = f"R-{day}-{n}"
            flow = rng.choice(
                [
                    receipt(qty, rng.randint(50, 150), site),
                    receipt(qty, None, site),
                    sale(qty, ref, site),
                    loss(str(rng.randint(1, 3)), site),
                    found("1", site),
                    Flow(0, P, D(qty), site, K.TRANSFER_OUT, other, K.TRANSFER_IN),
                ]
            )
            book.run(flow)
            if flow.out_kind is K.COGS and rng.random() < 0.2:
                book.run(returned("1", ref, site))
    for site in sites:
        mine = [e for e in book.entries if e.site == site]
        assert sum(e.value for e in mine) == book.value(site)
        assert sum((e.qty for e in mine), D(0)) == book.qty(site)
        layers = book.positions[(P, site)].layers
        assert not (any(x.qty < 0 for x in layers) and any(x.qty > 0 for x in layers))


def test_a_new_standard_restates_the_position() -> None:
    book = Book(Method.FIFO)
    book.run(receipt("4", 100), receipt("6", 120))
    position = book.positions[(P, "WH1")]
    assert position.revalue(110) == 10 * 110 - (400 + 720)
    assert (position.qty, position.value, len(position.layers)) == (D(10), 1100, 1)
    (sold,) = book.run(sale("3"))
    assert sold.value == -330  # at the standard from now on
