"""Request and response bodies of orders, packages, returns and transfers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from warehouse.core.api.params import Code, OrderRef, RequestBody, Text64, Text200

Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


Sscc = Annotated[str, Field(pattern=r"^\d{18}$", description="18 digits, check digit last")]


class LineIn(RequestBody):
    """An order line: product by SKU and quantity (purchase orders: optionally a lot and its
    expiry, when the supplier announced them)."""

    sku: Code
    qty: Qty
    lot: Text64 | None = None
    expiry: date | None = None
    unit_cost_minor: Annotated[
        int | None,
        Field(ge=0, le=10**12, description="Purchase orders: the cost of one unit, minor units"),
    ] = None


class PurchaseOrderIn(RequestBody):
    """A purchase order: what a supplier will deliver to a site, and optionally its advance
    shipping notice (packages by SSCC, with their contents)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "PO-1042",
                    "site": "WH1",
                    "supplier": "Tea Traders Ltd",
                    "expected_date": "2026-12-04",
                    "currency": "EUR",
                    "lines": [
                        {"sku": "TEA-GRN", "qty": "40", "unit_cost_minor": 215},
                        {"sku": "RIC-1K", "qty": "12", "unit_cost_minor": 180},
                    ],
                    "packages": {"106141411234567897": [{"sku": "RIC-1K", "qty": "12"}]},
                }
            ]
        },
    )

    ref: OrderRef
    site: Code
    supplier: Annotated[Text200 | None, Field(description="Default: the partner's name")] = None
    partner: Annotated[Code | None, Field(description="The supplier's partner code")] = None
    expected_date: date | None = None
    currency: Annotated[
        str | None,
        Field(pattern=r"^[A-Z]{3}$", description="Of the unit costs; default: the book currency"),
    ] = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    packages: Annotated[dict[Sscc, list[LineIn]], Field(max_length=500)] = {}

    @model_validator(mode="after")
    def _names_its_supplier(self) -> PurchaseOrderIn:
        if self.supplier is None and self.partner is None:
            raise ValueError("name the supplier, or its partner code")
        return self


class PurchaseLineOut(BaseModel):
    line: int
    sku: str
    qty: Decimal
    received: Decimal
    lot: str | None
    expiry: date | None
    unit_cost_minor: int | None = None


class PackageRef(BaseModel):
    sscc: str
    status: str


class PurchaseOrderOut(BaseModel):
    """A purchase order with what has been received of each line."""

    ref: str
    site: str
    supplier: str
    partner: str | None = None
    currency: str | None = None
    expected_date: date | None
    status: Literal["draft", "open", "received", "closed", "cancelled"]
    created_at: datetime
    closed_at: datetime | None
    lines: list[PurchaseLineOut]
    packages: list[PackageRef]


class PurchaseOrderPage(BaseModel):
    items: list[PurchaseOrderOut]
    next_cursor: str | None


class CloseOut(BaseModel):
    """What closing did: the order, and how many lines were short (each an exception)."""

    order: PurchaseOrderOut
    short_lines: int


class SalesOrderIn(RequestBody):
    """A sales order: a customer's lines for a site. ``shortage`` says what confirming does
    when stock is short; ``reserve_minutes`` how long a confirmation holds the stock."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "SO-7",
                    "site": "WH1",
                    "customer": "Corner Cafe",
                    "requested_date": "2026-12-03",
                    "lines": [{"sku": "TEA-GRN", "qty": "6"}],
                    "shortage": "backorder",
                    "reserve_minutes": 240,
                }
            ]
        },
    )

    ref: OrderRef
    site: Code
    customer: Annotated[Text200 | None, Field(description="Default: the partner's name")] = None
    partner: Annotated[Code | None, Field(description="The customer's partner code")] = None
    requested_date: date | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    shortage: Literal["backorder", "refuse"] = "backorder"
    reserve_minutes: Annotated[int, Field(ge=1, le=60 * 24 * 90)] | None = None

    @model_validator(mode="after")
    def _names_its_customer(self) -> SalesOrderIn:
        if self.customer is None and self.partner is None:
            raise ValueError("name the customer, or its partner code")
        return self


class SalesLineOut(BaseModel):
    line: int
    sku: str
    qty: Decimal
    reserved: Decimal = Field(description="Reserved and still to pick")
    picked: Decimal
    packed: Decimal
    shipped: Decimal
    backordered: Decimal
    returned: Decimal


class PickTaskOut(BaseModel):
    line: int
    sku: str
    location: str
    lot: str | None
    to_pick: Decimal
    picked: Decimal


class SalesOrderOut(BaseModel):
    """A sales order with its lines, its pick tasks (where each reserved quantity is) and
    its packages."""

    ref: str
    site: str
    customer: str
    partner: str | None = None
    requested_date: date | None
    status: Literal[
        "draft",
        "confirmed",
        "picked",
        "packed",
        "partially_shipped",
        "shipped",
        "expired",
        "cancelled",
    ]
    shortage: str
    reserved_until: datetime | None
    created_at: datetime
    lines: list[SalesLineOut]
    pick_tasks: list[PickTaskOut]
    packages: list[str]


class SalesOrderPage(BaseModel):
    items: list[SalesOrderOut]
    next_cursor: str | None


class ContentOut(BaseModel):
    sku: str
    name: str
    qty: Decimal
    lot: str | None
    expiry: date | None
    location: str | None = Field(description="Outbound: where the packed goods wait")


class PackageOut(BaseModel):
    """A package by its SSCC: inbound (announced by a supplier) or outbound (packed here)."""

    sscc: str
    site: str
    direction: Literal["inbound", "outbound"]
    status: Literal["expected", "received", "packed", "shipped"]
    order_ref: str | None
    customer: str | None
    created_at: datetime
    updated_at: datetime
    contents: list[ContentOut]


class ReturnLineIn(RequestBody):
    """A returned line: how many of which product (and lot), and what becomes of it:
    ``restock`` (at the returns location, or ``to_location``), ``quarantine`` (to
    ``to_location``) or ``scrap`` (written off to LOSS)."""

    sku: Code
    qty: Qty
    disposition: Literal["restock", "quarantine", "scrap"]
    lot: Text64 | None = None
    to_location: Code | None = None


class ReturnIn(RequestBody):
    """A customer return (RMA) against a sales order, arriving at ``location``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "RMA-12",
                    "order_ref": "SO-7",
                    "location": "WH1-DOCK-2",
                    "lines": [
                        {
                            "sku": "TEA-GRN",
                            "qty": "2",
                            "disposition": "restock",
                            "to_location": "WH1-A-01",
                        },
                        {"sku": "TEA-GRN", "qty": "1", "disposition": "scrap"},
                    ],
                }
            ]
        },
    )

    ref: OrderRef
    order_ref: OrderRef
    location: Code
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=500)]


class ReturnLineOut(BaseModel):
    sku: str
    qty: Decimal
    lot: str | None
    disposition: str
    to_location: str | None


class ReturnOut(BaseModel):
    """A recorded return and the ledger rows it posted."""

    ref: str
    site: str
    order_ref: str
    location: str
    created_at: datetime
    created_by: str
    lines: list[ReturnLineOut]
    movement_ids: list[int] = []


class ReturnPage(BaseModel):
    """A page of returns, newest first."""

    items: list[ReturnOut]
    next_cursor: str | None


class TransferIn(RequestBody):
    """Move stock between two locations: within a site at once when shipped, between sites
    through TRANSIT until the destination receives it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "TO-8",
                    "from_location": "WH1-A-01",
                    "to_location": "ST1-BACK",
                    "lines": [{"sku": "TEA-GRN", "qty": "12"}],
                }
            ]
        },
    )

    ref: OrderRef
    from_location: Code
    to_location: Code
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]


class ArrivalLineIn(RequestBody):
    sku: Code
    qty: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class ArrivalIn(RequestBody):
    """What arrived, per SKU; without ``lines``, everything shipped arrived."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lines": [{"sku": "TEA-GRN", "qty": "11"}]}, {}]},
    )

    lines: Annotated[list[ArrivalLineIn], Field(max_length=500)] | None = None


class TransferLineOut(BaseModel):
    line: int
    sku: str
    lot: str | None
    qty: Decimal
    shipped: Decimal
    received: Decimal


class TransferOut(BaseModel):
    ref: str
    from_site: str
    to_site: str
    from_location: str
    to_location: str
    status: Literal["draft", "in_transit", "received", "cancelled"]
    created_by: str
    created_at: datetime
    updated_at: datetime
    lines: list[TransferLineOut]


class TransferPage(BaseModel):
    """A page of transfers, newest first."""

    items: list[TransferOut]
    next_cursor: str | None
