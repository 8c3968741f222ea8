"""Inputs to the use cases: plain data, translated at the edges from MQTT or HTTP.

The ones built once per ingested event (MovementRequest, FloorEvent; InboxEntry and Provenance
elsewhere) are plain slots dataclasses rather than frozen ones: a frozen dataclass sets every
field through ``object.__setattr__``, which on the ingest's hot path costs more than the rest of
building it. Nothing mutates them after construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from warehouse.pricing import TenderInput


@dataclass(slots=True)
class MovementRequest:
    """A movement as reported or requested, before its codes are resolved."""

    kind: str
    qty: Decimal
    code: str | None = None
    sku: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    epc: str | None = None
    from_location: str | None = None
    to_location: str | None = None
    order_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ObservationRequest:
    """RFID presence reported by a station: EPCs that arrived or left, or a sweep's full set."""

    zone: str
    location: str | None
    arrivals: tuple[str, ...] = ()
    departures: tuple[str, ...] = ()
    snapshot: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """A code read with no movement implied (counting and lookup stations)."""

    code: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    epc: str | None = None
    location: str | None = None
    order_ref: str | None = None  # a packing station's order


@dataclass(frozen=True, slots=True)
class SaleLineRequest:
    """A line as rung up: a SKU or a scanned code, and what the cashier changed."""

    qty: Decimal
    sku: str | None = None
    code: str | None = None
    unit_price_override_minor: int | None = None
    embedded_price_minor: int | None = None
    discount_percent: Decimal | None = None
    discount_amount_minor: int | None = None
    reported_unit_price_minor: int | None = None  # what an edge register charged
    reported_discount_minor: int = 0


@dataclass(frozen=True, slots=True)
class SaleRequest:
    sale_id: str
    register: str  # the register's code (its location's)
    lines: Sequence[SaleLineRequest]
    tenders: Sequence[TenderInput]
    cashier: str
    basket_discount_percent: Decimal | None = None
    basket_discount_amount_minor: int | None = None
    occurred_at: datetime | None = None
    # from an edge register: what it numbered, charged and gave back
    receipt_no: int | None = None
    reported_total_minor: int | None = None
    change_minor: int | None = None
    rounding_minor: int | None = None
    currency: str | None = None


@dataclass(slots=True)
class FloorEvent:
    """A decoded event from an edge agent."""

    event_id: str
    agent_id: str
    site: str
    seq: int
    boot: int
    occurred_at: datetime
    type: str
    device: str | None = None
    station: str | None = None
    movement: MovementRequest | None = None
    heartbeat: dict[str, Any] | None = None
    observation: ObservationRequest | None = None
    scan: ScanRequest | None = None
    sale: SaleRequest | None = None
    payload: bytes | None = None  # as received: kept in the inbox
    payload_hash: str | None = None  # tells a re-send from a different body with the same id


@dataclass(frozen=True, slots=True)
class UndecodableEvent:
    """A payload the contract refused, with whatever ids could still be read from it."""

    topic: str
    payload: bytes
    reason: str
    detail: str
    event_id: str | None = None
    agent_id: str | None = None
    site: str | None = None
    seq: int | None = None
    payload_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """An agent's retained ``online``/``offline`` announcement."""

    agent_id: str
    site: str
    state: str


#: What one message from the broker becomes before a batch applies it.
Item = FloorEvent | UndecodableEvent | AgentStatus


@dataclass(frozen=True, slots=True)
class ManualMovement:
    """A movement entered through the API (receipt, transfer, adjustment)."""

    request: MovementRequest
    actor: str | None = None
    note: str | None = None
    occurred_at: datetime | None = None
    principal: str = "system"  # who posted it, for the audit log (user:alice, key:…)
    site: str | None = None  # the site it concerns, for the audit log


@dataclass(frozen=True, slots=True)
class Feedback:
    """What to tell the operator at a station after a scan: ``ok``, ``warn`` or ``error`` with a
    short text; published to the agent after the commit."""

    site: str
    agent_id: str
    level: str
    text: str
    device: str | None = None
    event_id: str | None = None


@dataclass(slots=True)
class IngestResult:
    """What one ingested batch did; ``acks`` maps (site, agent_id) to its contiguous seq."""

    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    recorded: int = 0
    conflicts: int = 0  # duplicates of an event id with a different body
    poison: int = 0  # events that failed their batch and were rejected on their own
    acks: dict[tuple[str, str], int] = field(default_factory=dict)
    feedback: list[Feedback] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)  # rejected events by reason

    def add(self, other: IngestResult) -> None:
        """Fold another result into this one (acks only rise)."""
        for name in ("applied", "duplicates", "rejected", "recorded", "conflicts", "poison"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.feedback += other.feedback
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        for key, seq in other.acks.items():
            self.acks[key] = max(seq, self.acks.get(key, 0))
