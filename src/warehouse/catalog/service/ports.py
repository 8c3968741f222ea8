"""Ports of the catalog: products, and what a scanned code or an EPC says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from warehouse.access.service.ports import AccessUnitOfWork
from warehouse.catalog.domain import Product


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """What a scanned code says: its GTIN-14 and any GS1 lot, serial and expiry."""

    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    sscc: str | None = None  # an (00) SSCC: a package, not a product
    measure: tuple[Decimal, str] | None = None  # a net weight, length, volume or area, its unit


@dataclass(frozen=True, slots=True)
class ParsedEpc:
    """What an EPC says: its pure identity URN and, for an SGTIN, GTIN-14 and serial."""

    hex: str
    uri: str | None = None
    gtin: str | None = None
    serial: str | None = None
    sscc: str | None = None  # an SSCC-96 tag: a package


class EpcParser(Protocol):
    """Decode an EPC read from a tag; ``None`` if it is not a valid EPC."""

    def __call__(self, epc: str) -> ParsedEpc | None: ...


class CodeParser(Protocol):
    """Decode barcode data (GTIN, GS1 element string, Digital Link); ``None`` if not GS1."""

    def __call__(self, code: str) -> ParsedCode | None: ...


class ProductRepository(Protocol):
    def get(self, sku: str) -> Product | None: ...
    def by_id(self, product_id: int) -> Product | None: ...
    def by_code(self, codes: Sequence[str]) -> Product | None: ...
    def add(self, product: Product) -> Product: ...
    def update(self, product: Product) -> Product: ...
    def delete(self, sku: str) -> None: ...
    def codes_taken(self, codes: Iterable[str], except_sku: str | None = None) -> list[str]: ...


class ProductUsage(Protocol):
    """Whether stock references a product: one with ledger history cannot be deleted (stock's
    repository answers it)."""

    def in_use(self, *, product_id: int | None = None) -> bool: ...


class StandardCosts(Protocol):
    """Revalues the stock of a product whose standard cost changed (valuation answers it)."""

    def revalue(self, product: Product, at: datetime) -> None: ...


class CatalogUnitOfWork(AccessUnitOfWork, Protocol):
    """The repositories the catalog's use cases need (its changes are audited)."""

    products: ProductRepository

    @property
    def stock(self) -> ProductUsage: ...

    @property
    def costs(self) -> StandardCosts: ...
