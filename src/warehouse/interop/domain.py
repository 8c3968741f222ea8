"""GS1 Digital Link: the keys a resolver answers for, their canonical paths, and the links it
offers for what a key identifies (GS1 Digital Link URI syntax 1.4, resolver standard 1.1).
Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from warehouse.catalog.domain import gs1_check_digit, in_charset_82

#: GS1's web vocabulary: link types are IRIs under it, written ``gs1:`` + name for short.
VOC = "https://gs1.org/voc/"


class BadKey(ValueError):
    """A key that is not what its application identifier allows, with the offending part."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


class Kind(StrEnum):
    """What a Digital Link names."""

    PRODUCT = "product"  # (01) a trade item: a product, or one of its packs
    LOT = "lot"  # (01) + (10)
    SERIAL = "serial"  # (01) + (21): one unit
    LOCATION = "location"  # (414) [+ (254)]: a physical location by its GLN
    PACKAGE = "package"  # (00): a logistic unit by its SSCC


def _check_digit_ok(digits: str) -> bool:
    return digits.isdigit() and gs1_check_digit(digits[:-1]) == int(digits[-1])


def gtin14(raw: str) -> str:
    """A GTIN-8, -12, -13 or -14 with a valid check digit, as the 14 digits GS1 Digital Link
    uses in its canonical form."""
    if len(raw) not in (8, 12, 13, 14) or not _check_digit_ok(raw):
        raise BadKey(f"{raw!r} is not a GTIN-8/12/13/14 with a valid check digit", "01")
    return raw.zfill(14)


def gln(raw: str) -> str:
    """A Global Location Number: 13 digits, the last its check digit."""
    if len(raw) != 13 or not _check_digit_ok(raw):
        raise BadKey(f"{raw!r} is not a 13-digit GLN with a valid check digit", "414")
    return raw


def sscc(raw: str) -> str:
    """A Serial Shipping Container Code: 18 digits, the last its check digit."""
    if len(raw) != 18 or not _check_digit_ok(raw):
        raise BadKey(f"{raw!r} is not an 18-digit SSCC with a valid check digit", "00")
    return raw


def cs82(raw: str, ai: str) -> str:
    """A lot (10), serial (21) or GLN extension (254): 1 to 20 characters of set 82."""
    if not in_charset_82(raw):
        raise BadKey(f"({ai}) takes 1 to 20 characters of GS1's character set 82, not {raw!r}", ai)
    return raw


@dataclass(frozen=True, slots=True)
class Key:
    """A Digital Link key: the primary key's AI and value, and one qualifier at most."""

    kind: Kind
    primary: tuple[str, str]  # ("01", gtin14) | ("414", gln) | ("00", sscc)
    qualifier: tuple[str, str] | None = None  # ("10", lot) | ("21", serial) | ("254", ext)

    @property
    def path(self) -> str:
        """The canonical path: ``/01/09506000134352/10/ABC%2F1``."""
        parts = [self.primary, *([self.qualifier] if self.qualifier else [])]
        return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in parts)


def product_key(gtin: str, lot: str | None = None, serial: str | None = None) -> Key:
    """``/01/{gtin}``, with ``/10/{lot}`` or ``/21/{serial}``."""
    primary = ("01", gtin14(gtin))
    if lot is not None:
        return Key(Kind.LOT, primary, ("10", cs82(lot, "10")))
    if serial is not None:
        return Key(Kind.SERIAL, primary, ("21", cs82(serial, "21")))
    return Key(Kind.PRODUCT, primary)


def location_key(number: str, extension: str | None = None) -> Key:
    """``/414/{gln}``, with ``/254/{extension}``."""
    qualifier = ("254", cs82(extension, "254")) if extension is not None else None
    return Key(Kind.LOCATION, ("414", gln(number)), qualifier)


def package_key(code: str) -> Key:
    """``/00/{sscc}``."""
    return Key(Kind.PACKAGE, ("00", sscc(code)))


@dataclass(frozen=True, slots=True)
class Link:
    """One link a resolver offers: its GS1 link type (short name), target and media type."""

    link_type: str  # "pip", "masterData", "traceability", "locationInfo" ...
    href: str
    title: str
    media: str = "application/json"

    @property
    def iri(self) -> str:
        return VOC + self.link_type


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a key identifies: its fields, and the links to it (the first is the default)."""

    key: Key
    item: dict[str, Any]
    links: list[Link] = field(default_factory=list)

    def link(self, wanted: str) -> Link | None:
        """The first link of type ``wanted`` (``gs1:pip``, ``pip`` or the full IRI);
        ``gs1:defaultLink`` is the first link."""
        name = wanted.removeprefix("gs1:").removeprefix(VOC)
        if name == "defaultLink":
            return self.links[0] if self.links else None
        return next((x for x in self.links if x.link_type == name), None)

    def linkset(self, base: str) -> dict[str, Any]:
        """RFC 9264's JSON linkset: the anchor, and per link type the targets."""
        entry: dict[str, Any] = {"anchor": base + self.key.path}
        if self.links:
            first = self.links[0]
            entry[VOC + "defaultLink"] = [_target(first, base)]
        for x in self.links:
            entry.setdefault(x.iri, []).append(_target(x, base))
        return {"linkset": [entry]}


def _target(x: Link, base: str) -> dict[str, str]:
    return {"href": base + x.href, "title": x.title, "type": x.media}
