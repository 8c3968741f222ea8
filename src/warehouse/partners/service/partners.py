"""Suppliers and customers: created, changed and deleted, every change audited; what a supplier
sells, replaced as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from warehouse.access.service.audit import record_change
from warehouse.catalog.domain import valid_gln
from warehouse.core.errors import CatalogRule, Conflict, NotFound
from warehouse.partners.domain import Partner, SupplierCatalogue, SupplierItem
from warehouse.partners.service.ports import PartnersUnitOfWork


def _check(partner: Partner) -> None:
    if not (partner.supplier or partner.customer):
        raise CatalogRule("a partner is a supplier, a customer or both", field="supplier")
    if partner.gln is not None and not valid_gln(partner.gln):
        raise CatalogRule(
            f"gln {partner.gln!r} is not a GLN (13 digits, the last its check digit)", field="gln"
        )


def create_partner(uow: PartnersUnitOfWork, partner: Partner, actor: str = "system") -> Partner:
    """Add a partner; its code and GLN must be unused."""
    _check(partner)
    with uow:
        if uow.partners.get(partner.code) is not None:
            raise Conflict(f"partner {partner.code!r} exists already", field="code")
        if partner.gln and uow.partners.gln_taken(partner.gln, None):
            raise Conflict(f"gln {partner.gln} belongs to another partner", field="gln")
        created = uow.partners.add(partner)
        record_change(uow.audit, actor, "partner.create", f"partner:{partner.code}", None, created)
        uow.commit()
    return created


def update_partner(uow: PartnersUnitOfWork, partner: Partner, actor: str = "system") -> Partner:
    """Replace a partner's record, keyed by its code."""
    _check(partner)
    with uow:
        current = _get(uow, partner.code)
        if partner.gln and uow.partners.gln_taken(partner.gln, partner.code):
            raise Conflict(f"gln {partner.gln} belongs to another partner", field="gln")
        partner.id = current.id
        updated = uow.partners.update(partner)
        record_change(
            uow.audit, actor, "partner.update", f"partner:{partner.code}", current, updated
        )
        uow.commit()
    return updated


def delete_partner(uow: PartnersUnitOfWork, code: str, actor: str = "system") -> None:
    """Delete a partner no order points at (deactivate one that has orders)."""
    with uow:
        partner = _get(uow, code)
        assert partner.id is not None
        if uow.orders.partner_in_use(partner.id):
            raise Conflict(
                f"{code} has orders and cannot be deleted; set active to false", field="code"
            )
        uow.partners.delete(code)
        record_change(uow.audit, actor, "partner.delete", f"partner:{code}", partner, None)
        uow.commit()


def set_supplier_items(
    uow: PartnersUnitOfWork,
    code: str,
    items: Sequence[tuple[str, SupplierItem]],
    actor: str = "system",
) -> list[SupplierItem]:
    """Replace what a supplier sells: ``(sku, item)`` pairs, each product once."""
    with uow:
        partner = _get(uow, code)
        assert partner.id is not None
        if not partner.supplier:
            raise CatalogRule(f"{code} is not a supplier", field="code")
        resolved: list[SupplierItem] = []
        for n, (sku, item) in enumerate(items):
            product = uow.products.get(sku)
            if product is None or product.id is None:
                raise NotFound(
                    f"items[{n}].sku {sku!r} is not a known product", field=f"items.{n}.sku"
                )
            if any(x.product_id == product.id for x in resolved):
                raise CatalogRule(f"items[{n}].sku {sku!r} is given twice", field=f"items.{n}.sku")
            if item.order_multiple is not None and item.order_multiple <= Decimal(0):
                raise CatalogRule(
                    "order_multiple must be positive", field=f"items.{n}.order_multiple"
                )
            resolved.append(replace(item, product_id=product.id, sku=product.sku))
        before = uow.partners.items(partner.id)
        uow.partners.set_items(partner.id, resolved)
        record_change(
            uow.audit,
            actor,
            "partner.items",
            f"partner:{code}",
            SupplierCatalogue(code, tuple(before)) if before else None,
            SupplierCatalogue(code, tuple(resolved)),
        )
        uow.commit()
    return resolved


def _get(uow: PartnersUnitOfWork, code: str) -> Partner:
    partner = uow.partners.get(code)
    if partner is None:
        raise NotFound(f"partner {code!r} does not exist", field="code")
    return partner
