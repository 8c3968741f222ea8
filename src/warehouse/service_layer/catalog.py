"""Catalog use cases: products with their codes, the location tree, and seeding both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import UTC, datetime

from warehouse.domain.errors import Conflict, NotFound, RuleViolation
from warehouse.domain.model import VIRTUAL_LOCATIONS, Location, LocationKind, Product
from warehouse.service_layer.ports import AuditEntry, CodeParser, UnitOfWork


def normalise_gtins(parser: CodeParser, gtins: Iterable[str]) -> list[str]:
    """GTIN-8/12/13/14 with valid check digits, as 14 digits; refuse anything else by value."""
    out = []
    for index, raw in enumerate(gtins):
        parsed = parser(raw) if raw.isdigit() else None
        if parsed is None or parsed.gtin is None or parsed.lot or parsed.serial:
            raise RuleViolation(
                f"{raw!r} is not a GTIN-8/12/13/14 with a valid check digit", field=f"gtins.{index}"
            )
        out.append(parsed.gtin)
    return sorted(set(out))


def _check_codes_distinct(product: Product) -> None:
    """A product names each of its codes once: no repeated alias, no alias that is its GTIN."""
    seen = set(product.gtins)
    for index, alias in enumerate(product.aliases):
        if alias in seen:
            raise RuleViolation(
                f"alias {alias!r} is given twice (or is one of the product's GTINs)",
                field=f"aliases.{index}",
            )
        seen.add(alias)


def _check_codes_free(uow: UnitOfWork, product: Product, except_sku: str | None) -> None:
    taken = uow.products.codes_taken([*product.gtins, *product.aliases], except_sku)
    if taken:
        raise Conflict(
            f"codes already belong to another product: {', '.join(taken)}",
            field="gtins" if taken[0] in product.gtins else "aliases",
        )


def create_product(
    uow: UnitOfWork, parser: CodeParser, product: Product, actor: str = "system"
) -> Product:
    """Add a product; its SKU, GTINs and aliases must be unused."""
    product = replace(product, gtins=normalise_gtins(parser, product.gtins))
    _check_codes_distinct(product)
    with uow:
        if uow.products.get(product.sku) is not None:
            raise Conflict(f"sku {product.sku!r} exists already", field="sku")
        _check_codes_free(uow, product, None)
        created = uow.products.add(product)
        uow.catalog_version.bump()
        _audit(uow, actor, "product.create", f"product:{product.sku}", None, created)
        uow.commit()
    return created


def update_product(
    uow: UnitOfWork, parser: CodeParser, product: Product, actor: str = "system"
) -> Product:
    """Replace a product's attributes and codes, keyed by its SKU."""
    product = replace(product, gtins=normalise_gtins(parser, product.gtins))
    _check_codes_distinct(product)
    with uow:
        current = uow.products.get(product.sku)
        if current is None:
            raise NotFound(f"sku {product.sku!r} is not a known product", field="sku")
        _check_codes_free(uow, product, product.sku)
        product.id = current.id
        updated = uow.products.update(product)
        uow.catalog_version.bump()
        _audit(uow, actor, "product.update", f"product:{product.sku}", current, updated)
        uow.commit()
    return updated


def delete_product(uow: UnitOfWork, sku: str, actor: str = "system") -> None:
    """Delete a product that has never moved; one with history is deactivated instead."""
    with uow:
        product = uow.products.get(sku)
        if product is None:
            raise NotFound(f"sku {sku!r} is not a known product", field="sku")
        if uow.stock.in_use(product_id=product.id):
            raise Conflict(
                f"{sku} has ledger history and cannot be deleted; set active to false",
                field="sku",
            )
        uow.products.delete(sku)
        uow.catalog_version.bump()
        _audit(uow, actor, "product.delete", f"product:{sku}", product, None)
        uow.commit()


def _check_parent(uow: UnitOfWork, location: Location) -> None:
    if location.is_virtual:
        if location.parent_code:
            raise RuleViolation("virtual locations have no parent", field="parent_code")
        return
    if location.parent_code is None:
        if location.kind is not LocationKind.SITE:
            raise RuleViolation(f"a {location.kind} location needs a parent", field="parent_code")
        return
    if location.parent_code == location.code:
        raise RuleViolation("a location cannot be its own parent", field="parent_code")
    parent = uow.locations.get(location.parent_code)
    if parent is None:
        raise NotFound(
            f"parent_code {location.parent_code!r} is not a known location", field="parent_code"
        )
    if parent.is_virtual:
        raise RuleViolation("a virtual location cannot be a parent", field="parent_code")


def _check_change(current: Location, location: Location) -> None:
    """What may change about a location: its name, its policy, a physical one's kind."""
    if location.parent_code != current.parent_code:
        raise RuleViolation(
            "moving a location in the tree is not supported; "
            "create a new one and transfer the stock",
            field="parent_code",
        )
    if current.is_virtual and location.kind is not current.kind:
        raise RuleViolation(
            f"{current.code} is a virtual ({current.kind}) location; its kind cannot change",
            field="kind",
        )
    if location.kind.is_virtual != current.kind.is_virtual:
        raise RuleViolation("a location cannot change between physical and virtual", field="kind")


def create_location(uow: UnitOfWork, location: Location, actor: str = "system") -> Location:
    """Add a node to the location tree."""
    with uow:
        if uow.locations.get(location.code) is not None:
            raise Conflict(f"location {location.code!r} exists already", field="code")
        _check_parent(uow, location)
        created = uow.locations.add(location)
        uow.catalog_version.bump()
        _audit(uow, actor, "location.create", f"location:{location.code}", None, created)
        uow.commit()
    return created


def update_location(uow: UnitOfWork, location: Location, actor: str = "system") -> Location:
    """Rename, re-kind or re-policy a location; its place in the tree does not change (its
    ``parent_code`` is taken from what is stored)."""
    with uow:
        current = uow.locations.get(location.code)
        if current is None:
            raise NotFound(f"location {location.code!r} is not known", field="code")
        location = replace(location, parent_code=current.parent_code)
        _check_change(current, location)
        location.id = current.id
        updated = uow.locations.update(location)
        uow.catalog_version.bump()
        _audit(uow, actor, "location.update", f"location:{location.code}", current, updated)
        uow.commit()
    return updated


def delete_location(uow: UnitOfWork, code: str, actor: str = "system") -> None:
    """Delete an unused leaf location."""
    with uow:
        location = uow.locations.get(code)
        if location is None:
            raise NotFound(f"location {code!r} is not known", field="code")
        if code in VIRTUAL_LOCATIONS or location.is_virtual:
            raise RuleViolation(
                f"{code} is a virtual ({location.kind}) location and cannot be deleted",
                field="code",
            )
        if uow.locations.has_children(code):
            raise Conflict(f"location {code!r} has child locations", field="code")
        if uow.stock.in_use(location_id=location.id):
            raise Conflict(f"location {code!r} has ledger history", field="code")
        uow.locations.delete(code)
        uow.catalog_version.bump()
        _audit(uow, actor, "location.delete", f"location:{code}", location, None)
        uow.commit()


def _view(thing: Product | Location | None) -> dict[str, object] | None:
    if thing is None:
        return None
    return {k: v for k, v in asdict(thing).items() if k != "id"}


def _audit(
    uow: UnitOfWork,
    actor: str,
    action: str,
    target: str,
    before: Product | Location | None,
    after: Product | Location | None,
) -> None:
    """A catalog change in the audit log, in the change's own transaction."""
    uow.audit.add(
        AuditEntry(datetime.now(UTC), actor, action, target, None, _view(before), _view(after))
    )


def seed(
    uow: UnitOfWork,
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
                uow.locations.add(location)
                created.append(f"location:{location.code}")
            else:
                _check_change(current, location)
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
            raise RuleViolation(
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
