"""Products: what we stock, how it is counted and told apart, and what may happen when it runs
out. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (weights 3, 1, 3, … from the right)."""
    if not digits.isdigit():
        raise ValueError(f"GS1 keys are digits, not {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


#: GS1's character set 82: what an alphanumeric AI such as (10) lot, (21) serial or (254) GLN
#: extension may hold (letters, digits and !"%&'()*+,-./:;<=>?_).
CHARSET_82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


def in_charset_82(text: str, longest: int = 20) -> bool:
    """Whether ``text`` may be an alphanumeric GS1 value: 1 to ``longest`` characters of set 82
    (a lot, a serial, a GLN extension)."""
    return 1 <= len(text) <= longest and set(text) <= CHARSET_82


def valid_gln(gln: str) -> bool:
    """A Global Location Number: 13 digits, the last its check digit."""
    return len(gln) == 13 and gln.isdigit() and gs1_check_digit(gln[:12]) == int(gln[12])


class Tracking(StrEnum):
    """How units of a product are told apart."""

    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class NegativePolicy(StrEnum):
    """What happens when a movement would take stock below zero."""

    BLOCK = "block"  # commands are refused; floor events are applied and flagged
    ALLOW = "allow"  # applied and flagged


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure: its dimension, its size in the dimension's base unit, and the decimal
    places a quantity in it is kept to (a kilogram to the gram, a metre to the millimetre)."""

    code: str
    dimension: str  # count | mass | volume | length | area
    factor: Decimal  # in the dimension's base unit (kg, l, m, m2; 1 for counted units)
    places: int

    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)


#: The units that convert and keep decimals; any other unit name counts whole things.
UNITS = {
    u.code: u
    for u in (
        Unit("kg", "mass", Decimal(1), 3),
        Unit("g", "mass", Decimal("0.001"), 1),
        Unit("lb", "mass", Decimal("0.45359237"), 3),
        Unit("oz", "mass", Decimal("0.028349523125"), 2),
        Unit("l", "volume", Decimal(1), 3),
        Unit("ml", "volume", Decimal("0.001"), 0),
        Unit("m3", "volume", Decimal(1000), 6),
        Unit("m", "length", Decimal(1), 3),
        Unit("cm", "length", Decimal("0.01"), 1),
        Unit("mm", "length", Decimal("0.001"), 0),
        Unit("ft", "length", Decimal("0.3048"), 3),
        Unit("in", "length", Decimal("0.0254"), 2),
        Unit("yd", "length", Decimal("0.9144"), 3),
        Unit("m2", "area", Decimal(1), 3),
    )
}
#: Units of measure whose quantities may be fractional (weighed, measured goods).
MEASURE_UNITS = frozenset(UNITS)


def unit_of(code: str) -> Unit:
    """What a unit name means; an unknown one (ea, box, roll) counts whole things."""
    return UNITS.get(code.lower()) or Unit(code, "count", Decimal(1), 0)


class UnitMismatch(ValueError):
    """Two units of different dimensions (grams and metres) do not convert."""


def convert(qty: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``qty`` of ``from_unit`` in ``to_unit``, within one dimension only; exact (Decimal)."""
    source, target = unit_of(from_unit), unit_of(to_unit)
    if source.code.lower() == target.code.lower():
        return qty
    if source.dimension != target.dimension or source.dimension == "count":
        raise UnitMismatch(
            f"{from_unit} ({source.dimension}) does not convert to {to_unit} ({target.dimension})"
        )
    return (qty * source.factor / target.factor).normalize()


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

    @property
    def measure(self) -> Unit:
        """The product's unit of measure."""
        return unit_of(self.unit)
