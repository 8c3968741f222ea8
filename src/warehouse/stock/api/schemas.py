"""Request and response bodies of locations, stock and movements, with OpenAPI examples."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from warehouse.core.api.params import Code, Note, RequestBody, Text64, Text200, Text512

Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


LocationKindName = Literal[
    "site", "zone", "bin", "dock", "register", "supplier", "customer", "loss", "transit"
]


Gln = Annotated[
    str | None,
    Field(
        pattern=r"^[0-9]{13}$",
        description="GS1 Global Location Number (414): 13 digits, the last its check digit",
        examples=["5412345000013"],
    ),
]
GlnExtension = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=20,
        description="With the GLN, tells apart locations sharing it (254; an SGLN's extension)",
        examples=["DOCK-1"],
    ),
]


class LocationIn(RequestBody):
    """A node of the location tree."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "WH1-A-01",
                    "name": "Aisle A, bin 01",
                    "kind": "bin",
                    "parent_code": "WH1-A",
                }
            ]
        },
    )

    code: Code
    name: Text200
    kind: LocationKindName
    parent_code: Code | None = None
    negative_policy: Literal["block", "allow"] | None = None
    gln: Gln = None
    gln_extension: GlnExtension = None


class LocationUpdate(RequestBody):
    """What may change about a location: name, kind, policy and GS1 keys."""

    name: Text200
    kind: LocationKindName
    negative_policy: Literal["block", "allow"] | None = None
    gln: Gln = None
    gln_extension: GlnExtension = None


class LocationOut(BaseModel):
    """A location with its path from the root."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    negative_policy: str | None
    path: list[str]
    gln: str | None = None
    gln_extension: str | None = None


class LocationPage(BaseModel):
    """A page of locations in tree order."""

    items: list[LocationOut]
    next_cursor: str | None


class StockRow(BaseModel):
    """Stock of one product at one location and lot."""

    sku: str
    location: str
    lot: str | None
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    version: int
    updated_at: datetime


class StockPage(BaseModel):
    """A page of stock rows."""

    items: list[StockRow]
    next_cursor: str | None


class SkuStock(BaseModel):
    """One product's stock: totals over physical locations and a row per location and lot."""

    sku: str
    name: str
    unit: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    reorder_point: Decimal | None
    below_reorder_point: bool
    locations: list[StockRow]


class MovementIn(RequestBody):
    """A manual receipt, transfer or adjustment. Name the product by sku, gtin or code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "receive",
                    "sku": "COF-250",
                    "qty": "12",
                    "to_location": "WH1-DOCK-1",
                    "lot": "L2026-11",
                },
                {
                    "kind": "transfer",
                    "gtin": "5901234123457",
                    "qty": "2",
                    "from_location": "WH1-DOCK-1",
                    "to_location": "WH1-A-01",
                    "lot": "L2026-11",
                },
                {
                    "kind": "adjust",
                    "sku": "COF-250",
                    "qty": "1",
                    "from_location": "WH1-A-01",
                    "lot": "L2026-11",
                    "note": "damaged in handling",
                },
            ]
        },
    )

    kind: Literal["receive", "transfer", "adjust"]
    sku: Code | None = None
    gtin: Annotated[str, Field(pattern=r"^\d{8,14}$")] | None = None
    code: Text512 | None = None
    qty: Qty
    unit: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=16,
            pattern=r"^[A-Za-z0-9]+$",
            description="The unit of qty when not the product's (g for a product kept in kg); "
            "converted within its dimension only",
        ),
    ] = None
    from_location: Code | None = None
    to_location: Code | None = None
    lot: Text64 | None = None
    serial: Text64 | None = None
    expiry: date | None = None
    order_ref: Text64 | None = None
    occurred_at: AwareDatetime | None = None
    actor: Text64 | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _one_product(self) -> MovementIn:
        named = [n for n in ("sku", "gtin", "code") if getattr(self, n)]
        if len(named) != 1:
            raise ValueError("name the product by exactly one of sku, gtin or code")
        return self


class MovementOut(BaseModel):
    """A ledger row."""

    id: int
    kind: str
    sku: str
    qty: Decimal
    from_location: str
    to_location: str
    lot: str | None
    serial: str | None
    epc: str | None
    expiry: date | None
    code: str | None
    order_ref: str | None
    occurred_at: datetime
    recorded_at: datetime
    origin: str
    event_id: str | None
    agent_id: str | None
    device: str | None
    station: str | None
    actor: str | None
    flags: list[str]


class MovementPage(BaseModel):
    """A page of ledger rows, newest first."""

    items: list[MovementOut]
    next_cursor: str | None
