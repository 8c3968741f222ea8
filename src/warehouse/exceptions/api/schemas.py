"""Request and response bodies of the exceptions queue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.core.api.params import Code, Note, Ref, RequestBody, Text64


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


class ResolveIn(RequestBody):
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
