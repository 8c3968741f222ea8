"""The location tree: locations created, changed and deleted, and a seed file's locations and
products loaded at once; every change audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from warehouse.access.service.audit import record_change
from warehouse.access.service.ports import AuditEntry
from warehouse.catalog.domain import Product, in_charset_82, valid_gln
from warehouse.catalog.service.ports import CodeParser
from warehouse.catalog.service.products import (
    _check_codes_distinct,
    _check_codes_free,
    normalise_gtins,
)
from warehouse.core.errors import Conflict, NotFound, StockRule
from warehouse.stock.domain.model import VIRTUAL_LOCATIONS, Location, LocationKind
from warehouse.stock.service.ports import StockUnitOfWork


def _check_parent(uow: StockUnitOfWork, location: Location) -> None:
    if location.is_virtual:
        if location.parent_code:
            raise StockRule("virtual locations have no parent", field="parent_code")
        return
    if location.parent_code is None:
        if location.kind is not LocationKind.SITE:
            raise StockRule(f"a {location.kind} location needs a parent", field="parent_code")
        return
    if location.parent_code == location.code:
        raise StockRule("a location cannot be its own parent", field="parent_code")
    parent = uow.locations.get(location.parent_code)
    if parent is None:
        raise NotFound(
            f"parent_code {location.parent_code!r} is not a known location", field="parent_code"
        )
    if parent.is_virtual:
        raise StockRule("a virtual location cannot be a parent", field="parent_code")


def _check_change(current: Location, location: Location) -> None:
    """What may change about a location: its name, its policy, a physical one's kind."""
    if location.parent_code != current.parent_code:
        raise StockRule(
            "moving a location in the tree is not supported; "
            "create a new one and transfer the stock",
            field="parent_code",
        )
    if current.is_virtual and location.kind is not current.kind:
        raise StockRule(
            f"{current.code} is a virtual ({current.kind}) location; its kind cannot change",
            field="kind",
        )
    if location.kind.is_virtual != current.kind.is_virtual:
        raise StockRule("a location cannot change between physical and virtual", field="kind")


def _check_gln(uow: StockUnitOfWork, location: Location) -> None:
    """A GLN with its check digit right; an extension (1 to 20 characters of GS1's set 82)
    only beside one; virtual locations have none; no other location holds the pair."""
    if location.gln is None:
        if location.gln_extension is not None:
            raise StockRule("an extension (254) needs a GLN beside it", field="gln_extension")
        return
    if location.is_virtual:
        raise StockRule("a virtual location has no GLN", field="gln")
    if not valid_gln(location.gln):
        raise StockRule(
            f"{location.gln!r} is not a 13-digit GLN with a valid check digit", field="gln"
        )
    extension = location.gln_extension
    if extension is not None and not in_charset_82(extension):
        raise StockRule(
            "a GLN extension (254) is 1 to 20 letters, digits or !\"%&'()*+,-./:;<=>?_",
            field="gln_extension",
        )
    holder = uow.locations.holding_gln(location.gln, extension)
    if holder is not None and holder != location.code:
        named = f"{location.gln} with extension {extension}" if extension else location.gln
        raise Conflict(f"location {holder} has GLN {named} already", field="gln")


def create_location(uow: StockUnitOfWork, location: Location, actor: str = "system") -> Location:
    """Add a node to the location tree."""
    with uow:
        if uow.locations.get(location.code) is not None:
            raise Conflict(f"location {location.code!r} exists already", field="code")
        _check_parent(uow, location)
        _check_gln(uow, location)
        created = uow.locations.add(location)
        uow.catalog_version.bump()
        record_change(
            uow.audit, actor, "location.create", f"location:{location.code}", None, created
        )
        uow.commit()
    return created


def update_location(uow: StockUnitOfWork, location: Location, actor: str = "system") -> Location:
    """Rename, re-kind or re-policy a location; its place in the tree does not change (its
    ``parent_code`` is taken from what is stored)."""
    with uow:
        current = uow.locations.get(location.code)
        if current is None:
            raise NotFound(f"location {location.code!r} is not known", field="code")
        location = replace(location, parent_code=current.parent_code)
        _check_change(current, location)
        _check_gln(uow, location)
        location.id = current.id
        updated = uow.locations.update(location)
        uow.catalog_version.bump()
        record_change(
            uow.audit, actor, "location.update", f"location:{location.code}", current, updated
        )
        uow.commit()
    return updated


def delete_location(uow: StockUnitOfWork, code: str, actor: str = "system") -> None:
    """Delete an unused leaf location."""
    with uow:
        location = uow.locations.get(code)
        if location is None:
            raise NotFound(f"location {code!r} is not known", field="code")
        if code in VIRTUAL_LOCATIONS or location.is_virtual:
            raise StockRule(
                f"{code} is a virtual ({location.kind}) location and cannot be deleted",
                field="code",
            )
        if uow.locations.has_children(code):
            raise Conflict(f"location {code!r} has child locations", field="code")
        if uow.stock.in_use(location_id=location.id):
            raise Conflict(f"location {code!r} has ledger history", field="code")
        uow.locations.delete(code)
        uow.catalog_version.bump()
        record_change(uow.audit, actor, "location.delete", f"location:{code}", location, None)
        uow.commit()


def seed(
    uow: StockUnitOfWork,
    parser: CodeParser,
    locations: list[Location],
    products: list[Product],
    actor: str = "system",
    source: str = "",
) -> tuple[int, int]:
    """Create or update locations (parents first) and products; return how many of each. The
    audit log gets one entry naming the source and what it created and changed."""
    created: list[str] = []
    changed: list[str] = []
    with uow:
        for location in _parents_first(locations):
            current = uow.locations.get(location.code)
            if current is None:
                _check_parent(uow, location)
                _check_gln(uow, location)
                uow.locations.add(location)
                created.append(f"location:{location.code}")
            else:
                _check_change(current, location)
                _check_gln(uow, location)
                location.id = current.id
                uow.locations.update(location)
                changed.append(f"location:{location.code}")
        for given in products:
            product = replace(given, gtins=normalise_gtins(parser, given.gtins))
            _check_codes_distinct(product)
            current_product = uow.products.get(product.sku)
            _check_codes_free(uow, product, product.sku if current_product else None)
            if current_product is None:
                uow.products.add(product)
                created.append(f"product:{product.sku}")
            else:
                product.id = current_product.id
                uow.products.update(product)
                changed.append(f"product:{product.sku}")
        uow.catalog_version.bump()
        uow.audit.add(
            AuditEntry(
                datetime.now(UTC), actor, "catalog.seed", f"seed:{source}"[:256], None, None,
                {"created": created, "updated": changed},
            )
        )  # fmt: skip
        uow.commit()
    return len(locations), len(products)


def _parents_first(locations: list[Location]) -> list[Location]:
    by_code = {loc.code: loc for loc in locations}
    ordered: list[Location] = []
    placed: set[str] = set()

    def visit(loc: Location, trail: tuple[str, ...]) -> None:
        if loc.code in placed:
            return
        if loc.code in trail:
            raise StockRule(
                f"locations form a cycle: {' > '.join((*trail, loc.code))}", field="parent_code"
            )
        parent = by_code.get(loc.parent_code or "")
        if parent is not None:
            visit(parent, (*trail, loc.code))
        placed.add(loc.code)
        ordered.append(loc)

    for loc in locations:
        visit(loc, ())
    return ordered
