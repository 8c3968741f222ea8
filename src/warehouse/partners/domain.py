"""Suppliers and customers, and the products a supplier sells. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None  # orders, accounts, deliveries ...


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    city: str
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2


@dataclass(slots=True)
class Partner:
    """A supplier, a customer, or both."""

    code: str
    name: str
    supplier: bool = False
    customer: bool = False
    gln: str | None = None
    currency: str | None = None
    payment_terms_days: int | None = None  # net days
    lead_time_days: int | None = None  # suppliers: from order to receipt, unless per product
    address: Address | None = None
    contacts: list[Contact] = field(default_factory=list)
    active: bool = True
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SupplierItem:
    """A product as one supplier sells it."""

    product_id: int
    sku: str
    supplier_sku: str | None = None
    lead_time_days: int | None = None  # None: the supplier's
    min_order_qty: Decimal | None = None
    order_multiple: Decimal | None = None  # cases of 12: orders go in twelves
    unit_cost_minor: int | None = None  # last quoted, book currency
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class SupplierCatalogue:
    """Everything one supplier sells (as the audit log records a change of it)."""

    partner: str
    items: tuple[SupplierItem, ...]


def order_quantity(need: Decimal, item: SupplierItem | None) -> Decimal:
    """What to order to cover ``need``: at least the minimum order quantity, rounded up to the
    order multiple, whole units."""
    qty = need.to_integral_value(ROUND_CEILING)
    if item is None:
        return qty
    if item.min_order_qty is not None:
        qty = max(qty, item.min_order_qty)
    if item.order_multiple:
        qty = (qty / item.order_multiple).to_integral_value(ROUND_CEILING) * item.order_multiple
    return qty
