"""Products: what we stock, how it is counted and told apart, and what may happen when it runs
out. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Tracking(StrEnum):
    """How units of a product are told apart."""

    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class NegativePolicy(StrEnum):
    """What happens when a movement would take stock below zero."""

    BLOCK = "block"  # commands are refused; floor events are applied and flagged
    ALLOW = "allow"  # applied and flagged


#: Units of measure whose quantities may be fractional (weighed, measured goods).
MEASURE_UNITS = frozenset({"kg", "g", "lb", "oz", "l", "ml", "m", "cm", "mm", "m2", "m3", "ft"})


#: Packaging levels above the base unit (GS1's packaging hierarchy).
PACK_LEVELS = ("inner", "case", "pallet")


@dataclass(frozen=True, slots=True)
class Pack:
    """A packaging level of a product: its own GTIN (a case's GTIN-14, say) and how many base
    units one holds. Scanning it moves that many."""

    level: str
    gtin: str
    qty: Decimal


@dataclass(slots=True)
class Product:
    """A thing we stock, named by SKU and found by any of its codes."""

    sku: str
    name: str
    unit: str = "ea"
    tracking: Tracking = Tracking.NONE
    negative_policy: NegativePolicy = NegativePolicy.BLOCK
    reorder_point: Decimal | None = None
    category: str | None = None  # for reports (valuation by category)
    costing: str | None = None  # fifo | average | standard (valuation.domain.Method); None: default
    standard_cost_minor: int | None = None  # per base unit, in the book currency
    gtins: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    packs: list[Pack] = field(default_factory=list)
    active: bool = True
    id: int | None = None

    def units_in(self, code: str | None) -> Decimal:
        """Base units one scan of ``code`` stands for: a pack's quantity, else one."""
        for pack in self.packs:
            if pack.gtin == code:
                return pack.qty
        return Decimal(1)

    @property
    def allows_fraction(self) -> bool:
        """Weighed and measured goods move in decimals; counted goods in whole units."""
        return self.unit.lower() in MEASURE_UNITS
