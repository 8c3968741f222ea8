"""Turning what a station reported into domain objects: codes to products, codes to locations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from warehouse.catalog.domain import Product, UnitMismatch, convert
from warehouse.catalog.service.ports import CodeParser, EpcParser, ParsedCode, ParsedEpc
from warehouse.core.errors import NotFound, StockRule
from warehouse.stock.domain import ledger
from warehouse.stock.domain.model import Location, Movement, MovementKind
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.policies import DEFAULT_POLICY, StockPolicy
from warehouse.stock.service.ports import StockUnitOfWork

T = TypeVar("T")
#: With a watch, how old the last look at the catalog version may grow before one is taken
#: anyway.
VERIFY_S = 5.0


class ChangeSignal(Protocol):
    """Counts catalog changes heard; None while it cannot hear them."""

    def generation(self) -> int | None: ...


#: How an SSCC barcode's data begins: AI (00) plain, in brackets, or after a GS1-128 prefix.
_SSCC_PREFIXES = ("00", "(00)", "]C100", "]d200", "]Q300")


@dataclass(slots=True)  # not frozen: one per ingested event (see floor/events.py)
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
    """What a movement request names, resolved and checked: kind, product and the two
    locations. Requests for the same product (however their serials differ) share one."""

    kind: MovementKind
    product: Product
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
        #: what tells of catalog changes as they commit (core/catalog_watch.py), when a process
        #: runs one: while it listens and has heard nothing, the version is not read
        self.watch: ChangeSignal | None = None
        self._generation: int | None = None
        self._checked = 0.0

    def refresh(self, uow: StockUnitOfWork) -> None:
        """Drop every cached entry if the catalog changed since the last look.

        With a listening watch that heard nothing since the last look, and a look less than
        ``VERIFY_S`` ago, nothing is read: only a change or a reconnection makes a batch read the
        version (the periodic look covers changes made behind the application's back)."""
        now = self._clock()
        generation = self.watch.generation() if self.watch is not None else None
        if (
            generation is not None
            and generation == self._generation
            and now - self._checked < VERIFY_S
        ):
            return
        version = uow.catalog_version.current()
        self._generation, self._checked = generation, now
        if version != self._version:
            self._cache.clear()
            self._version = version

    def cached(self, key: object, load: Callable[[], T | None]) -> T | None:
        """What ``key`` names: from the cache, or ``load()`` (kept when it is not None). Other
        areas keep what the same version guards here too: a site's price book, a device."""
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

    def decode(self, req: MovementRequest) -> Decoded:
        """What the request's GTIN, code and EPC say (both parsers are memoised), and the key
        its product is cached by: a serial makes every full code unique, its GTIN does not."""
        parsed = self.parser(req.gtin) if req.gtin else None
        if req.gtin and (parsed is None or parsed.gtin is None):
            raise StockRule(f"gtin {req.gtin!r} is not a valid GTIN", field="gtin")
        if req.code and parsed is None:
            parsed = self.parser(req.code)
        epc = self.epc_parser(req.epc) if req.epc and self.epc_parser else None
        gtin = (parsed.gtin if parsed else None) or (epc.gtin if epc else None)
        if req.sku:
            key = "S:" + req.sku
        elif gtin:
            key = "G:" + gtin + ("|C:" + req.code if req.code and parsed is None else "")
        else:
            key = "C:" + (req.code or "") + "|E:" + (req.epc or "")
        return Decoded(parsed, epc, gtin, key)

    def sscc(self, req: MovementRequest) -> str | None:
        """The SSCC a request's code (an (00) element string) or EPC (an SSCC-96 tag) names:
        a package rather than a product. Cheap prefix checks first: this runs per receipt."""
        if req.sku or req.gtin:
            return None
        code = req.code
        if code and code.startswith(_SSCC_PREFIXES):
            parsed = self.parser(code)
            if parsed is not None and parsed.sscc:
                return parsed.sscc
        if req.epc and self.epc_parser is not None and _may_be_sscc(req.epc):
            epc = self.epc_parser(req.epc)
            if epc is not None and epc.sscc:
                return epc.sscc
        return None

    def route(self, uow: StockUnitOfWork, req: MovementRequest, decoded: Decoded) -> Route:
        """The request's kind, product and locations, checked against the ledger's routes; a
        DomainError naming the field if they do not make a movement."""
        key = (req.kind, decoded.key, req.from_location, req.to_location)
        found = self.cached(key, lambda: _route(uow, self, req, decoded))
        assert found is not None  # _route raises instead of returning nothing
        return found

    def location(self, uow: StockUnitOfWork, code: str, field: str) -> Location:
        """The location with this code, or NotFound naming the field."""
        found = self.cached("L:" + code, lambda: uow.locations.get(code))
        if found is None:
            raise NotFound(f"{field} {code!r} is not a known location", field=field)
        return found

    def by_gtin(self, uow: StockUnitOfWork, gtin: str) -> Product | None:
        """The product with this GTIN-14 (cached)."""
        return self.cached("G:" + gtin, lambda: uow.products.by_code([gtin]))

    def product(self, uow: StockUnitOfWork, req: MovementRequest, decoded: Decoded) -> Product:
        """The product a request names: by SKU; else a code that decodes to a GTIN (or an SGTIN
        EPC) by that GTIN; else the code as a registered alias; else the tag's unit."""
        if req.sku:
            sku = req.sku
            product = self.cached("S:" + sku, lambda: uow.products.get(sku))
            if product is None:
                raise NotFound(f"sku {sku!r} is not a known product", field="sku")
            return product
        product = self.by_gtin(uow, decoded.gtin) if decoded.gtin else None
        if product is None and req.code:
            code = req.code
            product = self.cached("C:" + code, lambda: uow.products.by_code([code]))
        if product is None and req.epc:
            raw = decoded.epc.hex if decoded.epc else req.epc.upper()
            if raw:  # (a pure identity URN names no binary to find a unit by)
                product = self.cached("E:" + raw, lambda: _product_of_epc(uow, raw))
        if product is None:
            shown = req.code or req.gtin or req.epc
            gtin = f" (GTIN {decoded.gtin})" if decoded.gtin and decoded.gtin != shown else ""
            field = "code" if req.code else "gtin" if req.gtin else "epc"
            raise NotFound(f"{field} {shown!r}{gtin} matches no product", field=field)
        return product


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a movement request's codes say, decoded once per request."""

    parsed: ParsedCode | None
    epc: ParsedEpc | None
    gtin: str | None
    key: str  # what its product and route are cached by


def _may_be_sscc(epc: str) -> bool:
    """Whether an EPC may be an SSCC (cheap: this runs per receipt): the SSCC-96 header, or an
    SSCC URN."""
    return epc[:2] == "31" or epc[:17].lower().startswith(("urn:epc:id:sscc:", "urn:epc:tag:sscc-"))


def _product_of_epc(uow: StockUnitOfWork, epc: str) -> Product | None:
    unit = uow.units.by_epc(epc)
    return uow.products.by_id(unit.product_id) if unit else None


def _route(uow: StockUnitOfWork, catalog: Catalog, req: MovementRequest, decoded: Decoded) -> Route:
    try:
        kind = MovementKind(req.kind)
    except ValueError:
        kinds = ", ".join(k.value for k in MovementKind)
        raise StockRule(f"kind must be one of {kinds}, not {req.kind!r}", field="kind") from None
    product = catalog.product(uow, req, decoded)
    from_code, to_code = ledger.default_endpoints(kind, req.from_location, req.to_location)
    origin = catalog.location(uow, from_code, "from_location")
    destination = catalog.location(uow, to_code, "to_location")
    ledger.check_route(kind, origin, destination)
    return Route(kind, product, origin, destination)


def quantity(product: Product, req: MovementRequest, decoded: Decoded) -> Decimal:
    """The request's quantity in the product's unit: converted from the unit it names (within
    one dimension), or the net measure its code carries (a weighed item's label), or a pack's
    base units when the code is a pack's."""
    if req.unit:
        try:
            return convert(req.qty, req.unit, product.unit)
        except UnitMismatch as exc:
            raise StockRule(f"unit: {exc}", field="unit") from None
    measure = decoded.parsed.measure if decoded.parsed else None
    if measure is not None and product.allows_fraction:
        try:
            return req.qty * convert(measure[0], measure[1], product.unit)
        except UnitMismatch:
            pass  # a measure of another kind says nothing of how much this is
    if product.packs and not req.sku:  # a case's code moves a case: its base units
        return req.qty * product.units_in(decoded.gtin or req.code)
    return req.qty


def build_movement(
    uow: StockUnitOfWork,
    catalog: Catalog,
    req: MovementRequest,
    source: Provenance,
    policy: StockPolicy = DEFAULT_POLICY,
) -> Movement:
    """Resolve and check one movement request; raise a DomainError naming the bad field."""
    decoded = catalog.decode(req)
    route = catalog.route(uow, req, decoded)
    product, parsed = route.product, decoded.parsed
    qty = quantity(product, req, decoded)
    ledger.check_quantity(product, qty, policy.max_movement_qty)
    lot = req.lot or (parsed.lot if parsed else None) or ""
    serial = req.serial or (parsed.serial if parsed else None)
    epc = (decoded.epc.hex or None) if decoded.epc else (req.epc.upper() if req.epc else None)
    if serial is None and decoded.epc is not None:
        serial = decoded.epc.serial  # an SGTIN's serial names the unit as its code would
    return Movement(
        kind=route.kind,
        product=product,
        qty=qty,
        source=route.source,
        destination=route.destination,
        occurred_at=source.occurred_at,
        lot=lot,
        serial=serial,
        epc=epc,
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
