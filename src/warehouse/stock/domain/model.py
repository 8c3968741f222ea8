"""Locations and movements: the nouns of the stock ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from warehouse.catalog.domain import NegativePolicy, Product


class LocationKind(StrEnum):
    """Physical locations form the tree (site > zone > bin, docks and registers); virtual ones
    are the other side of receipts, sales, write-offs and transfers between sites."""

    SITE = "site"
    ZONE = "zone"
    BIN = "bin"
    DOCK = "dock"
    REGISTER = "register"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    LOSS = "loss"
    TRANSIT = "transit"

    @property
    def is_virtual(self) -> bool:
        """Virtual locations hold no physical stock; their balance is the mirror of flows."""
        return self in VIRTUAL_KINDS


VIRTUAL_KINDS = frozenset(
    {LocationKind.SUPPLIER, LocationKind.CUSTOMER, LocationKind.LOSS, LocationKind.TRANSIT}
)


#: The virtual locations every database has; their codes are fixed.
VIRTUAL_LOCATIONS = {
    "SUPPLIER": LocationKind.SUPPLIER,
    "CUSTOMER": LocationKind.CUSTOMER,
    "LOSS": LocationKind.LOSS,
    "TRANSIT": LocationKind.TRANSIT,
}


#: The most (and, negated, the least) one physical location may hold of one product and lot:
#: the projection stores millionths in 64 bits (9.22 x 10^12 units), with room to spare.
MAX_BALANCE = Decimal(9 * 10**12)


class MovementKind(StrEnum):
    """Why stock moved."""

    RECEIVE = "receive"
    TRANSFER = "transfer"
    PICK = "pick"
    SHIP = "ship"
    SALE = "sale"
    RETURN = "return"
    ADJUST = "adjust"


class Flag(StrEnum):
    """Something about an applied movement that a person should look at."""

    NEGATIVE_STOCK = "negative_stock"
    MISSING_LOT = "missing_lot"
    MISSING_SERIAL = "missing_serial"
    SERIAL_ELSEWHERE = "serial_elsewhere"
    CLOCK_SKEW = "clock_skew"  # the event time is far from the service's clock


@dataclass(slots=True)
class Location:
    """A place stock can be: a node in the site tree, or a virtual counterpart."""

    code: str
    name: str
    kind: LocationKind
    parent_code: str | None = None
    negative_policy: NegativePolicy | None = None  # None: the product's policy applies
    id: int | None = None
    site: str | None = None  # the root of its tree, as read from the database
    gln: str | None = None  # GS1 Global Location Number (414)
    gln_extension: str | None = None  # with the GLN, an SGLN's extension (254)

    @property
    def site_code(self) -> str | None:
        """The site this location belongs to: None for virtual ones (they belong to none)."""
        return None if self.is_virtual else self.site

    @property
    def is_virtual(self) -> bool:
        """Whether this is a virtual location (supplier, customer, loss, transit)."""
        return self.kind.is_virtual


class StockKey(NamedTuple):
    """The grain of the projection: one product at one location in one lot ('' for none).

    A named tuple rather than a frozen dataclass: posting hashes and compares keys about ten
    times per movement, and a tuple does that in C."""

    product_id: int
    location_id: int
    lot: str = ""


@dataclass(slots=True)
class Movement:
    """One row of the append-only ledger: qty of a product from one location to another."""

    kind: MovementKind
    product: Product
    qty: Decimal
    source: Location
    destination: Location
    occurred_at: datetime
    lot: str = ""
    serial: str | None = None
    epc: str | None = None
    expiry: date | None = None
    code: str | None = None
    order_ref: str | None = None
    event_id: str | None = None
    agent_id: str | None = None
    device: str | None = None
    station: str | None = None
    actor: str | None = None
    origin: str = "mqtt"  # mqtt | api
    flags: list[Flag] = field(default_factory=list)

    def stock_keys(self) -> tuple[StockKey, StockKey]:
        """The projection rows this movement takes from and adds to."""
        assert self.product.id is not None
        assert self.source.id is not None
        assert self.destination.id is not None
        return (
            StockKey(self.product.id, self.source.id, self.lot),
            StockKey(self.product.id, self.destination.id, self.lot),
        )
