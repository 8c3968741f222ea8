"""Products with their codes: created, changed and deleted, every change audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from warehouse.access.service.audit import record_change
from warehouse.catalog.domain import Product
from warehouse.catalog.service.ports import CatalogUnitOfWork, CodeParser
from warehouse.core.errors import CatalogRule, Conflict, NotFound


def normalise_gtins(
    parser: CodeParser, gtins: Iterable[str], field: str | None = None
) -> list[str]:
    """GTIN-8/12/13/14 with valid check digits, as 14 digits; refuse anything else by value."""
    out = []
    for index, raw in enumerate(gtins):
        parsed = parser(raw) if raw.isdigit() else None
        if parsed is None or parsed.gtin is None or parsed.lot or parsed.serial:
            raise CatalogRule(
                f"{raw!r} is not a GTIN-8/12/13/14 with a valid check digit",
                field=field or f"gtins.{index}",
            )
        out.append(parsed.gtin)
    return sorted(set(out))


def normalise_packs(parser: CodeParser, product: Product) -> Product:
    """Pack GTINs as 14 digits; quantities whole for counted goods."""
    packs = []
    for index, pack in enumerate(product.packs):
        (gtin,) = normalise_gtins(parser, [pack.gtin], field=f"packs.{index}.gtin")
        if not product.allows_fraction and pack.qty != int(pack.qty):
            raise CatalogRule(
                f"a {pack.level} of {product.unit} holds a whole number, not {pack.qty}",
                field=f"packs.{index}.qty",
            )
        packs.append(replace(pack, gtin=gtin))
    return replace(product, gtins=normalise_gtins(parser, product.gtins), packs=packs)


def _check_codes_distinct(product: Product) -> None:
    """A product names each of its codes once: no repeated alias, no alias or pack that is its
    GTIN."""
    seen = set(product.gtins)
    for index, pack in enumerate(product.packs):
        if pack.gtin in seen:
            raise CatalogRule(
                f"pack GTIN {pack.gtin} is given twice (or is one of the product's GTINs)",
                field=f"packs.{index}.gtin",
            )
        seen.add(pack.gtin)
    for index, alias in enumerate(product.aliases):
        if alias in seen:
            raise CatalogRule(
                f"alias {alias!r} is given twice (or is one of the product's GTINs)",
                field=f"aliases.{index}",
            )
        seen.add(alias)


def _check_codes_free(uow: CatalogUnitOfWork, product: Product, except_sku: str | None) -> None:
    packs = [x.gtin for x in product.packs]
    taken = uow.products.codes_taken([*product.gtins, *product.aliases, *packs], except_sku)
    if taken:
        raise Conflict(
            f"codes already belong to another product: {', '.join(taken)}",
            field="gtins"
            if taken[0] in product.gtins
            else "packs"
            if taken[0] in packs
            else "aliases",
        )


def create_product(
    uow: CatalogUnitOfWork, parser: CodeParser, product: Product, actor: str = "system"
) -> Product:
    """Add a product; its SKU, GTINs and aliases must be unused."""
    product = normalise_packs(parser, product)
    _check_codes_distinct(product)
    with uow:
        if uow.products.get(product.sku) is not None:
            raise Conflict(f"sku {product.sku!r} exists already", field="sku")
        _check_codes_free(uow, product, None)
        created = uow.products.add(product)
        uow.catalog_version.bump()
        record_change(uow.audit, actor, "product.create", f"product:{product.sku}", None, created)
        uow.commit()
    return created


def update_product(
    uow: CatalogUnitOfWork, parser: CodeParser, product: Product, actor: str = "system"
) -> Product:
    """Replace a product's attributes and codes, keyed by its SKU."""
    product = normalise_packs(parser, product)
    _check_codes_distinct(product)
    with uow:
        current = uow.products.get(product.sku)
        if current is None:
            raise NotFound(f"sku {product.sku!r} is not a known product", field="sku")
        _check_codes_free(uow, product, product.sku)
        product.id = current.id
        updated = uow.products.update(product)
        uow.catalog_version.bump()
        restated = (updated.costing, updated.standard_cost_minor)
        if updated.costing == "standard" and restated != (
            current.costing,
            current.standard_cost_minor,
        ):
            uow.costs.revalue(updated, datetime.now(UTC))  # stock on hand at the new standard
        record_change(
            uow.audit, actor, "product.update", f"product:{product.sku}", current, updated
        )
        uow.commit()
    return updated


def delete_product(uow: CatalogUnitOfWork, sku: str, actor: str = "system") -> None:
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
        record_change(uow.audit, actor, "product.delete", f"product:{sku}", product, None)
        uow.commit()
