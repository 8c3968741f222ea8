"""What a label says: its lines of text and the data of its symbols. Standard library only.

A product or case label carries GS1 element strings: (01) the GTIN-14 of what is labelled (the
each, or a pack's own GTIN), (10) the lot and (17) the expiry when known, in both a GS1-128 and
a GS1 DataMatrix. A shelf label carries ``LOC:`` and the location's code, which a station reads
as "the location is this one" (edge profiles, ``location_prefix``), in a Code 128 and a Data
Matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from warehouse.catalog.domain import CHARSET_82

#: What stations take as a location label (the edge's default ``location_prefix``).
LOCATION_PREFIX = "LOC:"
#: The longest lot (10) may be.
MAX_LOT = 20


def lot_problem(lot: str) -> str | None:
    """Why ``lot`` cannot be a GS1 (10) lot, or None."""
    if len(lot) > MAX_LOT:
        return f"a GS1 lot (10) has at most {MAX_LOT} characters, not {len(lot)}"
    odd = sorted(set(lot) - CHARSET_82)
    if odd:
        return (
            f"a GS1 lot (10) holds letters, digits and !\"%&'()*+,-./:;<=>?_ only, not {odd[0]!r}"
        )
    return None


@dataclass(frozen=True, slots=True)
class Label:
    """One label: a title, lines under it, and what its symbols encode: GS1 element strings
    (``elements``, as AI and value pairs) or, for shelf labels, plain ``text``."""

    title: str
    lines: tuple[str, ...]
    elements: tuple[tuple[str, str], ...] = ()
    text: str | None = None

    @property
    def human_readable(self) -> str:
        """What is printed under the symbol: element strings with their AIs in brackets."""
        if self.elements:
            return "".join(f"({ai}){value}" for ai, value in self.elements)
        return self.text or ""


def product_label(
    sku: str,
    name: str,
    gtin: str,
    *,
    lot: str | None = None,
    expiry: date | None = None,
    pack: tuple[str, str] | None = None,
) -> Label:
    """A product (or, with ``pack`` = (level, base units), a case or pallet) label."""
    elements = [("01", gtin)]
    if lot:
        elements.append(("10", lot))
    if expiry is not None:
        elements.append(("17", expiry.strftime("%y%m%d")))
    lines = [f"SKU {sku}"]
    if pack is not None:
        lines.append(f"{pack[0]} of {pack[1]}")
    if lot:
        lines.append(f"LOT {lot}")
    if expiry is not None:
        lines.append(f"USE BY {expiry.isoformat()}")
    return Label(name, tuple(lines), tuple(elements))


def location_label(code: str, name: str, site: str | None) -> Label:
    """A shelf or bin label: scanned, it sets the station's location."""
    lines = (name,) if not site else (name, f"SITE {site}")
    return Label(code, lines, text=LOCATION_PREFIX + code)
