"""Costing what posting records: every movement that crosses a site's edge gets its entry, in
the transaction that posts it (the stock port ``CostBook``).

A movement's counterpart says what its value change is: a supplier (receipt), a customer
(cost of goods sold, or a return), the loss location (write-off, or stock found), transit or
another site (transfer). A movement within one site changes no value and costs nothing here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from warehouse.catalog.domain import Product
from warehouse.stock.domain.model import VIRTUAL_KINDS, Location, LocationKind, Movement
from warehouse.valuation.domain import (
    DEFAULT_METHOD,
    ZERO,
    Entry,
    EntryKind,
    Flow,
    Method,
    Source,
    cost,
)
from warehouse.valuation.service.ports import CostRepository

#: The entry kind of a value change by the counterpart location's kind.
BY_COUNTERPART = {
    LocationKind.SUPPLIER: EntryKind.RECEIPT,
    LocationKind.CUSTOMER: EntryKind.COGS,
    LocationKind.LOSS: EntryKind.WRITEOFF,
}


def flow_of(index: int, movement: Movement) -> Flow | None:
    """How a movement changes stock value (None: it stays within one site, or touches none)."""
    source, destination = movement.source, movement.destination  # (site_code, inlined: hot)
    out_site = None if source.kind in VIRTUAL_KINDS else source.site
    in_site = None if destination.kind in VIRTUAL_KINDS else destination.site
    if out_site == in_site:
        return None
    assert movement.product.id is not None
    return Flow(
        index,
        movement.product.id,
        movement.qty,
        out_site,
        _kind(movement.destination, EntryKind.TRANSFER_OUT) if out_site else None,
        in_site,
        _kind(movement.source, EntryKind.TRANSFER_IN) if in_site else None,
        movement.order_ref,
    )


def _kind(counterpart: Location, transfer: EntryKind) -> EntryKind:
    return BY_COUNTERPART.get(counterpart.kind, transfer)


def method_of(costing: str | None) -> Method:
    return Method(costing) if costing else DEFAULT_METHOD


class Costing:
    """Records the cost of posted movements (implements ``stock.service.ports.CostBook``)."""

    def __init__(self, repo: CostRepository) -> None:
        self.repo = repo

    def record(self, movements: Sequence[Movement], ids: Sequence[int], at: datetime) -> None:
        """Cost ``movements`` (ledger ids ``ids``, in the same order) and store the entries."""
        flows = [f for i, m in enumerate(movements) if (f := flow_of(i, m)) is not None]
        if not flows:
            return
        methods = {}
        for f in flows:
            product = movements[f.index].product
            methods[f.product_id] = (method_of(product.costing), product.standard_cost_minor)
        keys = sorted({(f.product_id, s) for f in flows for s in (f.out_site, f.in_site) if s})
        positions = self.repo.positions(keys, methods)
        ordered = {
            (f.ref, f.product_id)
            for f in flows
            if f.in_kind is EntryKind.RECEIPT and f.ref is not None
        }
        if ordered:
            prices = self.repo.purchase_costs(ordered)
            flows = [replace(f, unit_cost=prices.get((f.ref or "", f.product_id))) for f in flows]
        transfers = self.repo.origins(_refs(flows, EntryKind.TRANSFER_IN), "transfer_out")
        sales = self.repo.origins(_refs(flows, EntryKind.COGS), "cogs")
        entries = cost(flows, positions, transfers, sales)
        occurred = {f.index: movements[f.index].occurred_at for f in flows}
        self.repo.store(positions.values(), entries, ids, occurred, at)

    def revalue(self, product: Product, at: datetime) -> None:
        """Restate a standard-cost product's stock at every site at its (new) standard cost:
        one ``revaluation`` entry per site whose value changes."""
        _revalue(self.repo, product, at)


def _revalue(repo: CostRepository, product: Product, at: datetime) -> None:
    assert product.id is not None
    standard = product.standard_cost_minor
    if method_of(product.costing) is not Method.STANDARD or standard is None:
        return
    keys = [(product.id, site) for site in repo.sites_of(product.id)]
    positions = repo.positions(keys, {product.id: (Method.STANDARD, standard)})
    entries = []
    for position in positions.values():
        change = position.revalue(standard)
        if change:
            ref = f"standard cost {standard}"
            entries.append(
                Entry(-1, product.id, position.site, EntryKind.REVALUATION, ZERO, change,
                      Source.STANDARD, ref)
            )  # fmt: skip
    repo.store(positions.values(), entries, [], {}, at)


def _refs(flows: Sequence[Flow], arriving: EntryKind) -> set[tuple[str, int]]:
    """The (ref, product) of arrivals that carry the cost they left with."""
    return {
        (f.ref, f.product_id)
        for f in flows
        if f.in_kind is arriving and f.ref is not None and f.out_site is None
    }
