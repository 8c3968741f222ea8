"""Contract v1 message models: the envelope, one data model per event type, acks, status, commands.

Every model ignores unknown fields, so additive changes within v1 never break an older reader.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    Field,
    field_validator,
    model_validator,
)

from warehouse.contracts.base import (
    CONTRACT_VERSION,
    MAX_SEQ,
    AgentId,
    Code,
    Gtin,
    MovementKind,
    Qty,
    Ref,
    _Model,
    _utc,
    _utc_or_none,
)
from warehouse.contracts.register import (
    DrawerData,
    SaleData,
    SessionData,
)


class MovementData(_Model):
    """A stock movement that a station implies: what moved, how much, from where to where."""

    kind: MovementKind
    code: Code | None = None
    sku: Ref | None = None
    gtin: Gtin | None = None
    lot: Ref | None = None
    serial: Ref | None = None
    expiry: date | None = None
    epc: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    qty: Qty = Decimal(1)
    from_location: Ref | None = None
    to_location: Ref | None = None
    order_ref: Ref | None = None

    @model_validator(mode="after")
    def _names_a_product(self) -> MovementData:
        if not (self.code or self.sku or self.gtin or self.epc):
            raise ValueError("a movement names its product by code, sku, gtin or epc")
        return self


class ScanData(_Model):
    """A code read with no movement implied (lookup stations, unassigned scans)."""

    code: Code
    symbology: Annotated[str, Field(max_length=8)] | None = None
    gtin: Gtin | None = None
    lot: Ref | None = None
    serial: Ref | None = None
    expiry: date | None = None
    epc: Annotated[str, Field(max_length=128)] | None = None
    uid: Annotated[str, Field(max_length=64)] | None = None
    location: Ref | None = None
    order_ref: Ref | None = Field(
        default=None, description="The order a packing station is checking items against"
    )


class TagSeen(_Model):
    """One tag in an RFID observation, with what the reader saw of it."""

    epc: Annotated[str, Field(min_length=1, max_length=128)]
    antenna: int | None = Field(default=None, ge=0, le=65535)
    rssi: float | None = Field(default=None, allow_inf_nan=False)
    reads: int | None = Field(default=None, ge=0)
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None

    _in_window = field_validator("first_seen", "last_seen")(_utc_or_none)


class ObservationData(_Model):
    """RFID presence in a zone: arrivals, departures and, for sweeps, the full set seen."""

    zone: Ref
    location: Ref | None = None
    arrivals: list[TagSeen] = Field(default_factory=list, max_length=10_000)
    departures: list[TagSeen] = Field(default_factory=list, max_length=10_000)
    snapshot: list[TagSeen] | None = Field(default=None, max_length=100_000)


class HeartbeatData(_Model):
    """Agent health, sent every 30 s."""

    uptime_s: float = Field(ge=0, allow_inf_nan=False)
    reads: int = Field(default=0, ge=0, le=MAX_SEQ)
    errors: int = Field(default=0, ge=0, le=MAX_SEQ)
    outbox_depth: int = Field(default=0, ge=0, le=MAX_SEQ)
    oldest_unsent_age_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    oldest_kept_seq: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SEQ,
        description="The lowest seq still in the outbox: anything below can no longer be re-sent",
    )
    devices: dict[str, dict[str, str | int | float | None]] = Field(default_factory=dict)


class _Envelope(_Model):
    v: Literal[1] = CONTRACT_VERSION
    event_id: UUID = Field(description="Made on the edge when the read happens; the dedupe key.")
    agent_id: AgentId
    site: AgentId
    seq: int = Field(ge=1, le=MAX_SEQ, description="Per agent, from 1, 64-bit, never reset.")
    boot: int = Field(default=0, ge=0, le=MAX_SEQ, description="The agent's connect counter.")
    occurred_at: AwareDatetime = Field(
        description="RFC 3339 with an offset, edge clock; from 1970 up to 2100 (UTC)."
    )
    device: Ref | None = None
    station: Ref | None = None

    _to_utc = field_validator("occurred_at")(_utc)


class MovementEvent(_Envelope):
    """Envelope of type ``movement``."""

    type: Literal["movement"] = "movement"
    data: MovementData


class ScanEvent(_Envelope):
    """Envelope of type ``scan``."""

    type: Literal["scan"] = "scan"
    data: ScanData


class ObservationEvent(_Envelope):
    """Envelope of type ``observation``."""

    type: Literal["observation"] = "observation"
    data: ObservationData


class SaleEvent(_Envelope):
    """Envelope of type ``sale``."""

    type: Literal["sale"] = "sale"
    data: SaleData


class SessionEvent(_Envelope):
    """Envelope of type ``session``."""

    type: Literal["session"] = "session"
    data: SessionData


class DrawerEvent(_Envelope):
    """Envelope of type ``drawer``."""

    type: Literal["drawer"] = "drawer"
    data: DrawerData


class HeartbeatEvent(_Envelope):
    """Envelope of type ``heartbeat``."""

    type: Literal["heartbeat"] = "heartbeat"
    data: HeartbeatData


Event = Annotated[
    MovementEvent
    | ScanEvent
    | ObservationEvent
    | SaleEvent
    | SessionEvent
    | DrawerEvent
    | HeartbeatEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = ("movement", "scan", "observation", "sale", "session", "drawer", "heartbeat")


class Ack(_Model):
    """Service → edge on ``.../acks`` (retained): every ``seq`` up to this one is committed."""

    v: Literal[1] = CONTRACT_VERSION
    agent_id: AgentId
    seq: int = Field(ge=0, le=MAX_SEQ, description="0 until the first event is committed.")
    committed_at: AwareDatetime

    _in_window = field_validator("committed_at")(_utc)


class Status(_Model):
    """Edge → service on ``.../status`` (retained); the last will says ``offline``."""

    v: Literal[1] = CONTRACT_VERSION
    agent_id: AgentId
    state: Literal["online", "offline"]
    boot: int | None = Field(default=None, ge=0, le=MAX_SEQ)
    version: Annotated[str, Field(max_length=64)] | None = None
    devices: list[Ref] = Field(default_factory=list)
    at: AwareDatetime | None = None

    _in_window = field_validator("at")(_utc_or_none)


class FeedbackCommand(_Model):
    """Tell the operator at a device: beep ok, warn or error, with a short text."""

    type: Literal["feedback"] = "feedback"
    level: Literal["ok", "warn", "error"]
    text: Annotated[str, Field(max_length=200)] = ""
    device: Ref | None = None
    event_id: UUID | None = None


class StationModeCommand(_Model):
    """Switch a station to another mode (receiving, picking, …)."""

    type: Literal["station_mode"] = "station_mode"
    station: Ref
    mode: Ref


class ResyncCommand(_Model):
    """Ask the agent to re-send every event from ``from_seq`` on (still in its outbox)."""

    type: Literal["resync"] = "resync"
    from_seq: int = Field(ge=0, le=MAX_SEQ)


class PriceBookCommand(_Model):
    """A site's price book changed: registers sell from ``book`` from now on (the layout of
    ``GET /api/v1/pos/price-book``, read by ``warehouse.pricing.PriceBook.from_dict``)."""

    type: Literal["price_book"] = "price_book"
    site: AgentId
    version: Annotated[str, Field(max_length=64)]
    book: dict[str, Any]


class Command(_Model):
    """Service → edge on ``.../commands``."""

    v: Literal[1] = CONTRACT_VERSION
    command_id: UUID
    issued_at: AwareDatetime

    _in_window = field_validator("issued_at")(_utc)
    body: Annotated[
        FeedbackCommand | StationModeCommand | ResyncCommand | PriceBookCommand,
        Field(discriminator="type"),
    ]
