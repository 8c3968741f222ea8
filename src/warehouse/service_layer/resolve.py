"""Turning what a station reported into domain objects: codes to products, codes to locations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from warehouse.domain import ledger
from warehouse.domain.errors import NotFound, RuleViolation
from warehouse.domain.model import Location, Movement, MovementKind, Product
from warehouse.service_layer.commands import MovementRequest
from warehouse.service_layer.policies import DEFAULT_POLICY, StockPolicy
from warehouse.service_layer.ports import CodeParser, EpcParser, ParsedCode, UnitOfWork

T = TypeVar("T")


@dataclass(slots=True)  # not frozen: one per ingested event (see service_layer/commands.py)
class Provenance:
    """Who and what reported a movement; kept on the ledger row (EPCIS needs it later)."""

    occurred_at: datetime
    origin: str = "mqtt"
    event_id: str | None = None
    agent_id: str | None = None
    device: str | None = None
    station: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """What a movement request names, resolved and checked: kind, product, the product code's
    decoded data, and the two locations. Repeats of the same request share one."""

    kind: MovementKind
    product: Product
    parsed: ParsedCode | None
    source: Location
    destination: Location


class Catalog:
    """Resolves product and location codes, caching hits across batches and requests.

    Only hits are cached, so a product created through the API is found on the next event. Every
    catalog change raises the database's catalog version in its own transaction; :meth:`refresh`
    reads it once per batch or request and drops the whole cache when it moved, so no process
    serves a product or location that was changed or deleted elsewhere. ``ttl`` bounds an entry's
    age besides. A resolved and checked route is cached the same way: a dock scanning the same
    case label into the same location a hundred times resolves it once.
    """

    def __init__(
        self,
        parser: CodeParser,
        *,
        epc_parser: EpcParser | None = None,
        ttl: float = 30.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parser = parser
        self.epc_parser = epc_parser
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._cache: dict[object, tuple[float, object]] = {}
        self._version: int | None = None

    def refresh(self, uow: UnitOfWork) -> None:
        """Drop every cached entry if the catalog changed since the last look."""
        version = uow.catalog_version.current()
        if version != self._version:
            self._cache.clear()
            self._version = version

    def _cached(self, key: object, load: Callable[[], T | None]) -> T | None:
        hit = self._cache.get(key)
        now = self._clock()
        if hit and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        value = load()
        if value is not None:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, value)
        return value

    def route(self, uow: UnitOfWork, req: MovementRequest) -> Route:
        """The request's kind, product and locations, checked against the ledger's routes; a
        DomainError naming the field if they do not make a movement."""
        key = (
            req.kind,
            req.sku,
            req.gtin,
            req.code,
            req.epc,
            req.from_location,
            req.to_location,
        )
        found = self._cached(key, lambda: _route(uow, self, req))
        assert found is not None  # _route raises instead of returning nothing
        return found

    def location(self, uow: UnitOfWork, code: str, field: str) -> Location:
        """The location with this code, or NotFound naming the field."""
        found = self._cached("L:" + code, lambda: uow.locations.get(code))
        if found is None:
            raise NotFound(f"{field} {code!r} is not a known location", field=field)
        return found

    def product(self, uow: UnitOfWork, req: MovementRequest) -> tuple[Product, ParsedCode | None]:
        """The product a request names by sku, gtin, code or EPC, and what its code said."""
        if req.sku:
            sku = req.sku
            product = self._cached("S:" + sku, lambda: uow.products.get(sku))
            if product is None:
                raise NotFound(f"sku {sku!r} is not a known product", field="sku")
            return product, None
        parsed = self.parser(req.gtin) if req.gtin else None
        if req.gtin and (parsed is None or parsed.gtin is None):
            raise RuleViolation(f"gtin {req.gtin!r} is not a valid GTIN", field="gtin")
        if req.code and parsed is None:
            parsed = self.parser(req.code)
        candidates = [c for c in (req.code, parsed.gtin if parsed else None, req.epc) if c]
        key = "C:" + "|".join(candidates)
        product = self._cached(key, lambda: uow.products.by_code(candidates))
        if product is None and req.epc:
            epc = req.epc
            product = self._cached("E:" + epc, lambda: _product_of_epc(uow, epc))
        if product is None:
            shown = req.code or req.gtin or req.epc
            gtin = (
                f" (GTIN {parsed.gtin})" if parsed and parsed.gtin and parsed.gtin != shown else ""
            )
            field = "code" if req.code else "gtin" if req.gtin else "epc"
            raise NotFound(f"{field} {shown!r}{gtin} matches no product", field=field)
        return product, parsed


def _product_of_epc(uow: UnitOfWork, epc: str) -> Product | None:
    unit = uow.units.by_epc(epc)
    return uow.products.by_id(unit.product_id) if unit else None


def _route(uow: UnitOfWork, catalog: Catalog, req: MovementRequest) -> Route:
    try:
        kind = MovementKind(req.kind)
    except ValueError:
        kinds = ", ".join(k.value for k in MovementKind)
        raise RuleViolation(
            f"kind must be one of {kinds}, not {req.kind!r}", field="kind"
        ) from None
    product, parsed = catalog.product(uow, req)
    from_code, to_code = ledger.default_endpoints(kind, req.from_location, req.to_location)
    origin = catalog.location(uow, from_code, "from_location")
    destination = catalog.location(uow, to_code, "to_location")
    ledger.check_route(kind, origin, destination)
    return Route(kind, product, parsed, origin, destination)


def build_movement(
    uow: UnitOfWork,
    catalog: Catalog,
    req: MovementRequest,
    source: Provenance,
    policy: StockPolicy = DEFAULT_POLICY,
) -> Movement:
    """Resolve and check one movement request; raise a DomainError naming the bad field."""
    route = catalog.route(uow, req)
    product, parsed = route.product, route.parsed
    ledger.check_quantity(product, req.qty, policy.max_movement_qty)
    lot = req.lot or (parsed.lot if parsed else None) or ""
    serial = req.serial or (parsed.serial if parsed else None)
    return Movement(
        kind=route.kind,
        product=product,
        qty=req.qty,
        source=route.source,
        destination=route.destination,
        occurred_at=source.occurred_at,
        lot=lot,
        serial=serial,
        epc=req.epc,
        expiry=req.expiry or (parsed.expiry if parsed else None),
        code=req.code or req.gtin,
        order_ref=req.order_ref,
        event_id=source.event_id,
        agent_id=source.agent_id,
        device=source.device,
        station=source.station,
        actor=source.actor,
        origin=source.origin,
        flags=ledger.tracking_flags(product, lot, serial),
    )
