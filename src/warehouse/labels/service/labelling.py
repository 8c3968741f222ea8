"""Which labels a request asks for: a product's (or one of its packs'), with its lot and expiry;
a location's, or every location of a subtree for a new aisle."""

from __future__ import annotations

from datetime import date

from warehouse.catalog.service.ports import CatalogUnitOfWork
from warehouse.core.errors import CatalogRule, NotFound, QueryRule
from warehouse.labels.domain import Label, lot_problem, product_label


def product_labels(
    uow: CatalogUnitOfWork,
    sku: str,
    *,
    pack: str | None = None,
    lot: str | None = None,
    expiry: date | None = None,
) -> list[Label]:
    """The label of a product's each, or of one of its packs (``pack``: inner, case, pallet)."""
    problem = lot_problem(lot) if lot else None
    if problem is not None:
        raise QueryRule(problem, field="lot")
    with uow:
        product = uow.products.get(sku)
    if product is None:
        raise NotFound(f"sku {sku!r} is not a known product", field="sku")
    if pack is not None:
        found = next((p for p in product.packs if p.level == pack), None)
        if found is None:
            levels = ", ".join(p.level for p in product.packs) or "none"
            raise NotFound(f"{sku} has no {pack} (its packs: {levels})", field="pack")
        quantity = f"{found.qty} {product.unit}"
        return [
            product_label(
                sku, product.name, found.gtin, lot=lot, expiry=expiry, pack=(pack, quantity)
            )
        ]
    if not product.gtins:
        raise CatalogRule(f"{sku} has no GTIN: a product label encodes one", field="sku")
    return [product_label(sku, product.name, product.gtins[0], lot=lot, expiry=expiry)]
