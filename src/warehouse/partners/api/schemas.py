"""Request and response bodies of partners, with OpenAPI examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from warehouse.core.api.params import Code, RequestBody, Text64, Text128, Text200
from warehouse.partners.domain import Address, Contact, Partner, SupplierItem

Days = Annotated[int, Field(ge=0, le=3650)]
Gln = Annotated[str, Field(pattern=r"^\d{13}$", description="Global Location Number")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class AddressIn(RequestBody):
    street: Text200
    city: Text128
    postal_code: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1")] | None = None


class ContactIn(RequestBody):
    name: Text128
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+() .-]+$")] | None = None
    role: Text64 | None = None


class PartnerUpdate(RequestBody):
    """Everything of a partner but its code, which is in the path."""

    name: Text200
    supplier: bool = False
    customer: bool = False
    gln: Gln | None = None
    currency: Currency | None = None
    payment_terms_days: Days | None = None
    lead_time_days: Annotated[
        Days | None, Field(description="Suppliers: order to receipt, unless an item says")
    ] = None
    address: AddressIn | None = None
    contacts: Annotated[list[ContactIn], Field(max_length=20)] = []
    active: bool = True

    def to_domain(self, code: str) -> Partner:
        return Partner(
            code=code,
            name=self.name,
            supplier=self.supplier,
            customer=self.customer,
            gln=self.gln,
            currency=self.currency,
            payment_terms_days=self.payment_terms_days,
            lead_time_days=self.lead_time_days,
            address=Address(**self.address.model_dump()) if self.address else None,
            contacts=[Contact(**c.model_dump()) for c in self.contacts],
            active=self.active,
        )


class PartnerIn(PartnerUpdate):
    """A supplier, a customer or both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "SUP-TEA",
                    "name": "Tea Traders Ltd",
                    "supplier": True,
                    "gln": "5901234000007",
                    "currency": "EUR",
                    "payment_terms_days": 30,
                    "lead_time_days": 5,
                    "address": {"street": "1 Dock Road", "city": "Gdansk", "country": "PL"},
                    "contacts": [{"name": "Ola", "email": "orders@tea.example", "role": "orders"}],
                }
            ]
        },
    )

    code: Code


class ItemIn(RequestBody):
    """A product as the supplier sells it."""

    sku: Code
    supplier_sku: Text64 | None = None
    lead_time_days: Days | None = None
    min_order_qty: Qty | None = None
    order_multiple: Annotated[Qty | None, Field(description="Orders go in multiples of it")] = None
    unit_cost_minor: Annotated[int, Field(ge=0, le=10**12)] | None = None
    preferred: bool = False

    def to_domain(self) -> tuple[str, SupplierItem]:
        values = self.model_dump(exclude={"sku"})
        return self.sku, SupplierItem(product_id=0, sku=self.sku, **values)


class ItemsIn(RequestBody):
    items: Annotated[list[ItemIn], Field(max_length=5000)]


class AddressOut(BaseModel):
    street: str
    city: str
    postal_code: str | None
    country: str | None


class ContactOut(BaseModel):
    name: str
    email: str | None
    phone: str | None
    role: str | None


class ItemOut(BaseModel):
    sku: str
    supplier_sku: str | None
    lead_time_days: int | None
    min_order_qty: Decimal | None
    order_multiple: Decimal | None
    unit_cost_minor: int | None
    preferred: bool


class PartnerOut(BaseModel):
    code: str
    name: str
    supplier: bool
    customer: bool
    gln: str | None
    currency: str | None
    payment_terms_days: int | None
    lead_time_days: int | None
    address: AddressOut | None
    contacts: list[ContactOut]
    active: bool
    items: list[ItemOut] | None = None


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    next_cursor: str | None
