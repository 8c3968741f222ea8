"""Purchase and sales orders: what receipts are matched to, what is reserved and picked, and
the SSCCs packages are shipped under. Pure functions over plain records; the use cases in
orders/service/receiving.py and fulfilment.py call them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from warehouse.catalog.domain import gs1_check_digit

ZERO = Decimal(0)


class PurchaseStatus(StrEnum):
    """A purchase order's life: a draft (proposed, not sent) until confirmed; open until
    everything arrived (received) or someone closes it."""

    DRAFT = "draft"  # takes no receipts until confirmed
    OPEN = "open"
    RECEIVED = "received"  # every line received in full (or more)
    CLOSED = "closed"  # closed by a person; what is short stays short (an exception)
    CANCELLED = "cancelled"


class SalesStatus(StrEnum):
    """A sales order's life."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"  # stock reserved (all or part)
    PICKED = "picked"  # everything reserved has been picked
    PACKED = "packed"  # everything picked is in packages
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    EXPIRED = "expired"  # the reservation ran out before picking; confirm again to reserve
    CANCELLED = "cancelled"


#: Sales orders whose reservations still hold stock.
RESERVING = frozenset(
    {SalesStatus.CONFIRMED, SalesStatus.PICKED, SalesStatus.PACKED, SalesStatus.PARTIALLY_SHIPPED}
)


class Shortage(StrEnum):
    """What confirming an order does when stock is short."""

    BACKORDER = "backorder"  # reserve what there is; the rest waits as a backorder
    REFUSE = "refuse"  # reserve nothing unless everything can be reserved


# --- receiving --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenLine:
    """A purchase-order line that can still take receipts."""

    line_id: int
    order_ref: str
    line_no: int
    expected: Decimal
    received: Decimal
    expected_date: date | None = None
    lot: str = ""  # a line that names a lot takes that lot only

    @property
    def remaining(self) -> Decimal:
        """What is still expected (never below zero)."""
        return max(self.expected - self.received, ZERO)


def receipt_order(lines: Sequence[OpenLine]) -> list[OpenLine]:
    """The order receipts fill lines in: oldest expected date first, then order and line."""
    return sorted(
        lines, key=lambda line: (line.expected_date or date.max, line.order_ref, line.line_no)
    )


def match_receipt(
    qty: Decimal, lot: str, lines: Sequence[OpenLine]
) -> tuple[list[tuple[OpenLine, Decimal]], Decimal]:
    """Spread a received ``qty`` over the open lines for its product, taken in the order given
    (see :func:`receipt_order`); return (line, qty) pairs and the over-receipt.

    A line that names a lot takes only that lot. What no line expects still lands on the first
    matching line (its received passes its expected), so the order shows the over-receipt."""
    taken: list[tuple[OpenLine, Decimal]] = []
    first: OpenLine | None = None
    left = qty
    for line in lines:
        if line.lot and line.lot != lot:
            continue
        if first is None:
            first = line
        part = min(left, line.remaining)
        if part > 0:
            taken.append((line, part))
            left -= part
            if left <= 0:
                return taken, ZERO
    if first is None:
        return [], qty
    if left > 0:  # the over-receipt: booked on the first line that fits
        if taken and taken[0][0] is first:
            taken[0] = (first, taken[0][1] + left)
        else:
            taken.insert(0, (first, left))
    return taken, left


def receipt_text(order_ref: str, line_no: int, received: Decimal, expected: Decimal) -> str:
    """What the dock is told after a receipt: ``PO-1042 line 2: 12 of 40``."""
    return f"{order_ref} line {line_no}: {received} of {expected}"


# --- reservations -----------------------------------------------------------------------------


# --- picking ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Allocation:
    """A pick task: reserved stock of an order line at one location and lot."""

    id: int
    line_id: int
    line_no: int
    product_id: int
    sku: str
    location_id: int
    location_code: str
    lot: str
    qty: Decimal  # still to pick here
    line_qty: Decimal  # what the line ordered
    line_picked: Decimal  # what the line has had picked so far


class PickProblem(StrEnum):
    """Why a pick scan does not settle an allocation."""

    WRONG_ITEM = "wrong_item"
    OVER_PICK = "over_pick"
    WRONG_LOCATION = "wrong_location"
    WRONG_LOT = "wrong_lot"


@dataclass(frozen=True, slots=True)
class PickRefused:
    """A pick scan that matches no allocation, and what to tell the picker."""

    problem: PickProblem
    text: str


def plan_pick(
    order_ref: str,
    allocations: Sequence[Allocation],
    product_id: int,
    sku: str,
    location_id: int,
    location_code: str,
    lot: str,
    qty: Decimal,
) -> list[tuple[Allocation, Decimal]] | PickRefused:
    """Which allocations a scanned pick settles, or why it settles none.

    A pick must be of a product on the order, from a location (and lot, for lot-tracked stock)
    it was reserved at, and no more than is still to pick there."""
    mine = [a for a in allocations if a.product_id == product_id]
    if not mine:
        return PickRefused(PickProblem.WRONG_ITEM, f"{sku} is not on {order_ref}")
    open_ = [a for a in mine if a.qty > 0]
    if not open_:
        return PickRefused(PickProblem.OVER_PICK, f"{order_ref}: {sku} is picked in full")
    here = [a for a in open_ if a.location_id == location_id]
    if not here:
        where = ", ".join(sorted({a.location_code for a in open_}))
        return PickRefused(
            PickProblem.WRONG_LOCATION, f"{order_ref}: pick {sku} from {where}, not {location_code}"
        )
    if lot:
        lots = [a for a in here if not a.lot or a.lot == lot]
        if not lots:
            wanted = ", ".join(sorted({a.lot for a in here}))
            return PickRefused(
                PickProblem.WRONG_LOT, f"{order_ref}: {sku} lot {wanted} here, not {lot}"
            )
        here = lots
    if qty > sum((a.qty for a in here), ZERO):
        left = sum((a.qty for a in here), ZERO)
        return PickRefused(
            PickProblem.OVER_PICK,
            f"{order_ref}: {qty} x {sku} scanned, {left} left to pick at {location_code}",
        )
    taken: list[tuple[Allocation, Decimal]] = []
    left = qty
    for allocation in here:
        part = min(left, allocation.qty)
        if part > 0:
            taken.append((allocation, part))
            left -= part
    return taken


def pick_text(order_ref: str, line_no: int, picked: Decimal, ordered: Decimal) -> str:
    """What the picker is told after a good pick: ``SO-7 line 1: 3 of 5 picked``."""
    return f"{order_ref} line {line_no}: {picked} of {ordered} picked"


def sales_status(
    ordered: Decimal, reserved: Decimal, picked: Decimal, packed: Decimal, shipped: Decimal
) -> SalesStatus:
    """A confirmed order's status from its totals (reserved: still to pick)."""
    if shipped > 0:
        done = shipped >= picked + reserved and reserved == 0 and shipped >= ordered
        return SalesStatus.SHIPPED if done else SalesStatus.PARTIALLY_SHIPPED
    if picked > 0 and reserved == 0:
        return SalesStatus.PACKED if packed >= picked else SalesStatus.PICKED
    return SalesStatus.CONFIRMED


# --- SSCC -------------------------------------------------------------------------------------


def make_sscc(extension: int, company_prefix: str, serial_ref: int) -> str:
    """The 18-digit SSCC: extension digit, company prefix, serial reference, check digit."""
    if not 0 <= extension <= 9:
        raise ValueError("the SSCC extension digit is 0 to 9")
    if not (company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError(f"a GS1 company prefix is 6 to 12 digits, not {company_prefix!r}")
    width = 16 - len(company_prefix)
    if not 0 <= serial_ref < 10**width:
        raise ValueError(
            f"serial reference {serial_ref} does not fit the {width} digits prefix "
            f"{company_prefix} leaves; the site's SSCC series is used up"
        )
    body = f"{extension}{company_prefix}{serial_ref:0{width}d}"
    return body + str(gs1_check_digit(body))
