"""Floor events matched against orders inside the ingest transaction.

The ingest hands over the movements of a batch that concern orders (receipts, picks and
shipments, and scans of package SSCCs); receiving.py and fulfilment.py say what each one does
to its order. What comes back is collected here: movements to post instead of (or besides) the
scanned ones, reservation changes, exceptions for the queue, and feedback for the stations,
which the ingest publishes after the commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from warehouse.floor.outcome import Outcome
from warehouse.stock.domain.model import Movement, StockKey


@dataclass(slots=True)
class Reconciled(Outcome):
    """What matching a batch to orders decided."""

    post: list[Movement] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # event ids whose movement is not posted
    reserved: dict[StockKey, Decimal] = field(default_factory=dict)

    def reserve(self, key: StockKey, delta: Decimal) -> None:
        """Reserved stock at ``key`` changes by ``delta``."""
        self.reserved[key] = self.reserved.get(key, Decimal(0)) + delta
