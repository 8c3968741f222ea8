"""Request and response bodies of cycle counts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.core.api.params import Code, OrderRef, RequestBody, Text64

Qty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class CountIn(RequestBody):
    """Start counting ``location`` and everything under it; a blind count hides the book
    from those who count."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ref": "CNT-5", "location": "WH1-A", "blind": True}]},
    )

    ref: OrderRef
    location: Code
    blind: bool = False


class CountEntryIn(RequestBody):
    sku: Code
    location: Code
    qty: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
    lot: Text64 | None = None


class CountEntriesIn(RequestBody):
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


class CountSummary(BaseModel):
    """A count in a listing: its state and progress (its lines: GET /counts/{ref})."""

    ref: str
    site: str
    location: str
    blind: bool
    status: Literal["open", "approved", "cancelled"]
    created_by: str
    created_at: datetime
    refreshed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    lines: int = Field(description="Lines in its book (product, location, lot)")
    counted: int = Field(description="Of those, the ones counted so far")


class CountPage(BaseModel):
    """A page of counts, newest first."""

    items: list[CountSummary]
    next_cursor: str | None
