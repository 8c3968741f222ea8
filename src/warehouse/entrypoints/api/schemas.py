"""Request and response bodies of the API, with OpenAPI examples."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from warehouse.entrypoints.api.params import (
    Code,
    Note,
    Storable,
    Text64,
    Text128,
    Text200,
    Text512,
)

Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductUpdate(_In):
    """Everything of a product but its SKU, which is in the path."""

    name: Text200
    unit: Annotated[str, Field(min_length=1, max_length=16), Storable] = "ea"
    tracking: Literal["none", "lot", "serial"] = "none"
    negative_policy: Literal["block", "allow"] = "block"
    reorder_point: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)] | None = None
    gtins: Annotated[list[Annotated[str, Field(pattern=r"^\d{8,14}$")]], Field(max_length=50)] = []
    aliases: Annotated[list[Text128], Field(max_length=50)] = []
    active: bool = True


class ProductIn(ProductUpdate):
    """A product: its SKU, how it is counted and tracked, and every code that finds it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "COF-250",
                    "name": "Coffee beans 250 g",
                    "unit": "ea",
                    "tracking": "lot",
                    "negative_policy": "block",
                    "reorder_point": "24",
                    "gtins": ["5901234123457"],
                    "aliases": ["COFFEE-250"],
                }
            ]
        },
    )

    sku: Code


class ProductOut(BaseModel):
    """A product; GTINs are shown as GTIN-14."""

    sku: str
    name: str
    unit: str
    tracking: str
    negative_policy: str
    reorder_point: Decimal | None
    gtins: list[str]
    aliases: list[str]
    active: bool


class ProductPage(BaseModel):
    """A page of products."""

    items: list[ProductOut]
    next_cursor: str | None


LocationKindName = Literal[
    "site", "zone", "bin", "dock", "register", "supplier", "customer", "loss", "transit"
]


class LocationIn(_In):
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


class LocationUpdate(_In):
    """What may change about a location: name, kind and policy."""

    name: Text200
    kind: LocationKindName
    negative_policy: Literal["block", "allow"] | None = None


class LocationOut(BaseModel):
    """A location with its path from the root."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    negative_policy: str | None
    path: list[str]


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


class MovementIn(_In):
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


class RejectedEventOut(BaseModel):
    """An event the ingest worker refused, with why and what it was."""

    id: int
    received_at: datetime
    reason: str
    detail: str
    topic: str | None
    event_id: str | None
    agent_id: str | None
    site: str | None
    seq: int | None
    payload: str
    payload_size: int
    payload_truncated: bool
    original_payload: str | None = Field(
        None, description="For a conflicting_duplicate: the body first received with this id"
    )


class RejectedPage(BaseModel):
    """A page of rejected events, newest first."""

    items: list[RejectedEventOut]
    next_cursor: str | None


class Gap(BaseModel):
    """A range of seqs an agent has not delivered. The service asks the agent to send it again
    (``resync_*``); ``unrecoverable`` once the agent says it no longer has those events."""

    first_seq: int
    last_seq: int
    detected_at: datetime
    resync_requested_at: datetime | None
    resync_count: int
    unrecoverable: bool
    unrecoverable_at: datetime | None


class AgentOut(BaseModel):
    """An edge agent as the service knows it."""

    agent_id: str
    site: str
    first_seen: datetime
    last_seen: datetime
    boot: int
    acked_seq: int
    max_seq: int
    state: str | None
    state_at: datetime | None
    gaps: list[Gap]
    missing: int
    health: dict[str, object] | None
    heartbeat_at: datetime | None


class LoginIn(_In):
    """A username and password."""

    username: Text64 = Field(examples=["alice"])
    password: Annotated[str, Field(min_length=1, max_length=1024), Storable] = Field(
        examples=["correct horse battery staple"]
    )


class RefreshIn(_In):
    """A refresh token from a login or the last refresh."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=200), Storable] = Field(
        examples=["whr_4f1c…"]
    )


class TokenOut(BaseModel):
    """An access token for ``Authorization: Bearer``, and the refresh token that renews it
    (each refresh token works once: keep the new one)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, no secret
    expires_in: int = Field(description="seconds", examples=[900])
    refresh_token: str


class MeOut(BaseModel):
    """Who the credentials name."""

    kind: Literal["user", "key"]
    name: str = Field(examples=["alice"])
    grants: list[str] = Field(examples=[["manager@ST1", "staff@WH1"]])


class AuditOut(BaseModel):
    """One manual change."""

    id: int
    at: datetime
    actor: str = Field(examples=["user:alice"])
    action: str = Field(examples=["product.update"])
    target: str = Field(examples=["product:TEA-GRN"])
    site: str | None = Field(None, examples=["WH1"])
    before: dict[str, object] | list[object] | None = None
    after: dict[str, object] | list[object] | None = None


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditOut]
    next_cursor: str | None
