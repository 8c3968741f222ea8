"""Ports of partners: the partner records and their supplier items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from warehouse.access.service.ports import AccessUnitOfWork
from warehouse.catalog.service.ports import ProductRepository
from warehouse.partners.domain import Partner, SupplierItem


class PartnerRepository(Protocol):
    def get(self, code: str) -> Partner | None: ...
    def add(self, partner: Partner) -> Partner: ...
    def update(self, partner: Partner) -> Partner: ...
    def delete(self, code: str) -> None: ...
    def gln_taken(self, gln: str, except_code: str | None) -> bool: ...

    def items(self, partner_id: int) -> list[SupplierItem]: ...
    def set_items(self, partner_id: int, items: Sequence[SupplierItem]) -> None: ...


class PartnerUsage(Protocol):
    """Whether an order points at a partner (orders' repository answers it)."""

    def partner_in_use(self, partner_id: int) -> bool: ...


class PartnersUnitOfWork(AccessUnitOfWork, Protocol):
    """The repositories partners' use cases need (changes are audited)."""

    partners: PartnerRepository
    products: ProductRepository

    @property
    def orders(self) -> PartnerUsage: ...
