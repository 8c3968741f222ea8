"""Ports of valuation: the layers of each position, the entries movements leave, and the costs
known from outside (purchase order lines; what left under a transfer or a sale)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from warehouse.valuation.domain import Entry, Method, Origins, Position


class CostRepository(Protocol):
    def positions(
        self, keys: Sequence[tuple[int, str]], methods: dict[int, tuple[Method, int | None]]
    ) -> dict[tuple[int, str], Position]:
        """The positions of (product, site) keys, locked until the transaction ends; a key with
        no layers yet is an empty position of its product's method."""
        ...

    def store(
        self,
        positions: Iterable[Position],
        entries: Sequence[Entry],
        movement_ids: Sequence[int],
        occurred: Mapping[int, datetime],
        at: datetime,
    ) -> None:
        """Store the positions as they now stand and the entries; ``movement_ids`` and
        ``occurred`` are indexed by an entry's index (a negative one: no movement)."""
        ...

    def sites_of(self, product_id: int) -> list[str]:
        """The sites where the product has cost layers."""
        ...

    def purchase_costs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Decimal]:
        """The unit cost of each (purchase order ref, product) whose line has one."""
        ...

    def origins(self, keys: Iterable[tuple[str, int]], kind: str) -> Origins:
        """What left under each (ref, product) as ``kind`` entries: (qty, value), both positive."""
        ...
