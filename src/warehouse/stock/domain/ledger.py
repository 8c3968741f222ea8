"""The ledger's rules: which routes each movement kind may take, quantities, tracking and the
negative-stock policy. Pure functions over domain objects; the use cases call them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from warehouse.catalog.domain import NegativePolicy, Product, Tracking
from warehouse.core.errors import InsufficientStock, OutOfRange, StockRule
from warehouse.stock.domain.model import (
    MAX_BALANCE,
    Flag,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    StockKey,
)

_PHYSICAL = "a physical location"
# kind -> (allowed source kinds, allowed destination kinds); None means any physical location.
_ROUTES: dict[
    MovementKind, tuple[frozenset[LocationKind] | None, frozenset[LocationKind] | None]
] = {
    MovementKind.RECEIVE: (frozenset({LocationKind.SUPPLIER, LocationKind.TRANSIT}), None),
    MovementKind.TRANSFER: (None, None),
    MovementKind.PICK: (None, None),
    MovementKind.SHIP: (None, frozenset({LocationKind.CUSTOMER, LocationKind.TRANSIT})),
    MovementKind.SALE: (None, frozenset({LocationKind.CUSTOMER})),
    MovementKind.RETURN: (frozenset({LocationKind.CUSTOMER}), None),
    MovementKind.ADJUST: (None, None),
}


def default_endpoints(
    kind: MovementKind, from_code: str | None, to_code: str | None
) -> tuple[str, str]:
    """Fill in the virtual side a movement kind implies; name the field that is still missing."""
    if kind is MovementKind.RECEIVE:
        from_code = from_code or "SUPPLIER"
    elif kind in (MovementKind.SHIP, MovementKind.SALE):
        to_code = to_code or "CUSTOMER"
    elif kind is MovementKind.RETURN:
        from_code = from_code or "CUSTOMER"
    elif kind is MovementKind.ADJUST and bool(from_code) != bool(to_code):
        # an adjustment names the one location it corrects; the loss location is the other side
        from_code, to_code = from_code or "LOSS", to_code or "LOSS"
    if not from_code:
        raise StockRule(f"a {kind} movement needs from_location", field="from_location")
    if not to_code:
        raise StockRule(f"a {kind} movement needs to_location", field="to_location")
    return from_code, to_code


def check_route(kind: MovementKind, source: Location, destination: Location) -> None:
    """Refuse a movement whose locations make no sense for its kind."""
    if source.code == destination.code:
        raise StockRule(
            f"from_location and to_location are both {source.code!r}", field="to_location"
        )
    if kind is MovementKind.ADJUST:
        if (source.kind is LocationKind.LOSS) == (destination.kind is LocationKind.LOSS):
            raise StockRule(
                "an adjustment moves stock between one physical location and LOSS",
                field="to_location",
            )
        return
    sources, destinations = _ROUTES[kind]
    _check_side(kind, "from_location", source, sources)
    _check_side(kind, "to_location", destination, destinations)


def _check_side(
    kind: MovementKind, field: str, location: Location, allowed: frozenset[LocationKind] | None
) -> None:
    if allowed is None:
        if location.is_virtual and not (
            kind is MovementKind.TRANSFER and location.kind is LocationKind.TRANSIT
        ):
            raise StockRule(
                f"a {kind} {field} must be {_PHYSICAL}, not {location.code!r} ({location.kind})",
                field=field,
            )
    elif location.kind not in allowed:
        names = " or ".join(sorted(k.value for k in allowed))
        raise StockRule(
            f"a {kind} {field} must be a {names} location, not {location.code!r} ({location.kind})",
            field=field,
        )


def check_quantity(product: Product, qty: Decimal, maximum: Decimal | None = None) -> None:
    """Quantities are positive and at most ``maximum``; counted goods move in whole units."""
    if qty <= 0:
        raise StockRule(f"qty must be positive, received {qty}", field="qty")
    if maximum is not None and qty > maximum:
        raise OutOfRange(f"qty {qty} is above the maximum of {maximum} per movement", field="qty")
    if not product.allows_fraction and qty != qty.to_integral_value():
        raise StockRule(
            f"{product.sku} is counted in {product.unit!r}; qty must be whole, received {qty}",
            field="qty",
        )
    unit = product.measure
    if unit.places and qty != qty.quantize(unit.quantum()):
        raise StockRule(
            f"{product.sku} is kept in {unit.code} to {unit.places} decimal places "
            f"({unit.quantum()} {unit.code}); received {qty}",
            field="qty",
        )
    if product.tracking is Tracking.SERIAL and qty != 1:
        raise StockRule(
            f"{product.sku} is serial-tracked; qty must be 1 per serial, received {qty}",
            field="qty",
        )


def tracking_flags(product: Product, lot: str, serial: str | None) -> list[Flag]:
    """What a tracked product's movement lacks."""
    if product.tracking is Tracking.LOT and not lot:
        return [Flag.MISSING_LOT]
    if product.tracking is Tracking.SERIAL and not serial:
        return [Flag.MISSING_SERIAL]
    return []


def effective_policy(product: Product, location: Location) -> NegativePolicy:
    """A location's own policy wins over the product's."""
    return location.negative_policy or product.negative_policy


def projected_keys(movements: Iterable[Movement]) -> list[StockKey]:
    """The projection rows the movements touch, in lock order: physical locations only.

    Virtual locations are not projected: their balance is the mirror image of every flow, grows
    without bound (every receipt ever made), and would be the one row every receipt locks. It is
    summed from the ledger when asked for."""
    keys = set()
    for movement in movements:
        take, add = movement.stock_keys()
        if not movement.source.is_virtual:
            keys.add(take)
        if not movement.destination.is_virtual:
            keys.add(add)
    return sorted(keys)


def apply_movements(
    movements: Iterable[Movement],
    balances: Mapping[StockKey, Decimal],
    *,
    enforce: bool,
) -> dict[StockKey, Decimal]:
    """Run movements over the current balances in order; return the net change per physical key.

    Floor events (``enforce=False``) report what already happened: a movement that takes a
    physical location below zero is applied and flagged. Commands (``enforce=True``) are refused
    with :class:`InsufficientStock` where the ``block`` policy applies. Either kind is refused
    with :class:`OutOfRange` if a balance would pass ``MAX_BALANCE``: that cannot be stored.
    """
    running = dict(balances)
    deltas: dict[StockKey, Decimal] = {}
    for movement in movements:
        take, add = movement.stock_keys()
        source, destination = movement.source, movement.destination
        if not source.is_virtual:
            before = running.get(take, Decimal(0))
            after = before - movement.qty
            if after < 0:
                blocked = effective_policy(movement.product, source) is NegativePolicy.BLOCK
                if enforce and blocked:
                    raise InsufficientStock(
                        movement.product.sku, source.code, movement.lot, before, movement.qty
                    )
                if Flag.NEGATIVE_STOCK not in movement.flags:
                    movement.flags.append(Flag.NEGATIVE_STOCK)
            _check_balance(movement, source, after)
            running[take] = after
            deltas[take] = deltas.get(take, Decimal(0)) - movement.qty
        if not destination.is_virtual:
            after = running.get(add, Decimal(0)) + movement.qty
            _check_balance(movement, destination, after)
            running[add] = after
            deltas[add] = deltas.get(add, Decimal(0)) + movement.qty
    return deltas


def _check_balance(movement: Movement, location: Location, balance: Decimal) -> None:
    if abs(balance) > MAX_BALANCE:
        raise OutOfRange(
            f"{movement.product.sku} at {location.code} would stand at {balance}, beyond the "
            f"{MAX_BALANCE} a location can hold",
            field="qty",
        )


def skew_flags(occurred_at: datetime, now: datetime, ahead_s: float, behind_s: float) -> list[Flag]:
    """``clock_skew`` for an event time more than ``ahead_s`` after ``now`` (no edge can report
    the future) or more than ``behind_s`` before it (a clock that was never set, or an event
    that waited longer than any outage should last)."""
    lag = (now - occurred_at).total_seconds()
    return [Flag.CLOCK_SKEW] if lag < -ahead_s or lag > behind_s else []
