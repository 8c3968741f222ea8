"""Request and response bodies of orders, packages and the exceptions queue."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.entrypoints.api.params import Code, Note, Ref, Text64, Text200

Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]
OrderRef = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
]
Sscc = Annotated[str, Field(pattern=r"^\d{18}$", description="18 digits, check digit last")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    """An order line: product by SKU and quantity (purchase orders: optionally a lot and its
    expiry, when the supplier announced them)."""

    sku: Code
    qty: Qty
    lot: Text64 | None = None
    expiry: date | None = None


class PurchaseOrderIn(_In):
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
                    "lines": [{"sku": "TEA-GRN", "qty": "40"}, {"sku": "RIC-1K", "qty": "12"}],
                    "packages": {"106141411234567897": [{"sku": "RIC-1K", "qty": "12"}]},
                }
            ]
        },
    )

    ref: OrderRef
    site: Code
    supplier: Text200
    expected_date: date | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    packages: Annotated[dict[Sscc, list[LineIn]], Field(max_length=500)] = {}


class PurchaseLineOut(BaseModel):
    line: int
    sku: str
    qty: Decimal
    received: Decimal
    lot: str | None
    expiry: date | None


class PackageRef(BaseModel):
    sscc: str
    status: str


class PurchaseOrderOut(BaseModel):
    """A purchase order with what has been received of each line."""

    ref: str
    site: str
    supplier: str
    expected_date: date | None
    status: Literal["open", "received", "closed", "cancelled"]
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


class SalesOrderIn(_In):
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
    customer: Text200
    requested_date: date | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    shortage: Literal["backorder", "refuse"] = "backorder"
    reserve_minutes: Annotated[int, Field(ge=1, le=60 * 24 * 90)] | None = None


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


class ExceptionOut(BaseModel):
    """Something on the floor that did not match; ``suggestions`` lists how it may be
    resolved, the usual way first."""

    id: int
    kind: str
    status: Literal["open", "resolved", "dismissed"]
    site: str | None
    event_id: str | None
    agent_id: str | None
    station: str | None
    order_ref: str | None
    sku: str | None
    location: str | None
    lot: str | None
    qty: Decimal | None
    code: str | None
    detail: str
    suggestions: list[str]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    note: str | None


class ExceptionPage(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None


class ResolveIn(_In):
    """How to resolve an exception: ``link_code`` (needs ``sku``: the code becomes its alias
    and the event that waited applies), ``adjust`` (``sku``, ``location``, signed ``qty``:
    posted as an adjustment against LOSS), ``accept`` or ``dismiss`` (needs a ``note``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"resolution": "link_code", "sku": "TEA-GRN"},
                {"resolution": "adjust", "sku": "TEA-GRN", "location": "WH1-A-01", "qty": "-2"},
                {"resolution": "dismiss", "note": "test scan by the installer"},
            ]
        },
    )

    resolution: Literal["link_code", "adjust", "accept", "dismiss"]
    note: Note | None = None
    sku: Code | None = None
    location: Ref | None = None
    lot: Text64 | None = None
    qty: Annotated[Decimal, Field(max_digits=18, decimal_places=6)] | None = None


class ResolvedOut(BaseModel):
    """The exception as it now stands, and the movements the resolution posted."""

    exception: ExceptionOut
    movement_ids: list[int]


class ReturnLineIn(_In):
    """A returned line: how many of which product (and lot), and what becomes of it:
    ``restock`` (at the returns location, or ``to_location``), ``quarantine`` (to
    ``to_location``) or ``scrap`` (written off to LOSS)."""

    sku: Code
    qty: Qty
    disposition: Literal["restock", "quarantine", "scrap"]
    lot: Text64 | None = None
    to_location: Code | None = None


class ReturnIn(_In):
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


class CountIn(_In):
    """Start counting ``location`` and everything under it; a blind count hides the book
    from those who count."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ref": "CNT-5", "location": "WH1-A", "blind": True}]},
    )

    ref: OrderRef
    location: Code
    blind: bool = False


class CountEntryIn(_In):
    sku: Code
    location: Code
    qty: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
    lot: Text64 | None = None


class CountEntriesIn(_In):
    """Counted quantities; each replaces what was counted for its product, location and lot."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"entries": [{"sku": "TEA-GRN", "location": "WH1-A-01", "qty": "7"}]}]
        },
    )

    entries: Annotated[list[CountEntryIn], Field(min_length=1, max_length=5000)]


class CountLineOut(BaseModel):
    sku: str
    location: str
    lot: str | None
    book: Decimal | None = Field(description="Hidden (null) in a blind count from counters")
    counted: Decimal | None
    variance: Decimal | None


class CountOut(BaseModel):
    """A count: its lines and whether stock moved in its location since the book was taken
    (``stale``: refresh before approving)."""

    ref: str
    site: str
    location: str
    blind: bool
    status: Literal["open", "approved", "cancelled"]
    stale: bool
    created_at: datetime
    refreshed_at: datetime
    approved_by: str | None
    lines: list[CountLineOut]
    movement_ids: list[int] = []


class TransferIn(_In):
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


class ArrivalLineIn(_In):
    sku: Code
    qty: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class ArrivalIn(_In):
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
    lines: list[TransferLineOut]
