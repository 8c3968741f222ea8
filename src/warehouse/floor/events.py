"""What an edge agent reported, decoded: the event and the request it carries. Plain data,
translated from the MQTT contract by the ingest worker (and, for sales, from the API).

The event is built once per ingested event: a plain slots dataclass rather than a frozen one (a
frozen dataclass sets every field through ``object.__setattr__``, which on the ingest's hot path
costs more than the rest of building it). Nothing mutates it after construction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from warehouse.pricing import TenderInput
from warehouse.stock.service.commands import MovementRequest


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
    lot: str | None = None  # named by the cashier (a code with (10) names its own)
    serial: str | None = None


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
    session_no: int | None = None  # the register's own number for its cashier session


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A cashier session an edge register opened or closed, under its own number."""

    action: str  # open, close
    register: str
    session_no: int
    cashier: str
    float_minor: int = 0
    counted_minor: int | None = None


@dataclass(frozen=True, slots=True)
class DrawerRequest:
    """The drawer opened without a sale: cash paid in or out, or a no-sale."""

    kind: str  # paid_in, paid_out, no_sale
    register: str
    session_no: int | None  # None through the API, which names the session itself
    amount_minor: int
    cashier: str
    reason: str | None = None


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
    session: SessionRequest | None = None
    drawer: DrawerRequest | None = None
    payload: bytes | None = None  # as received: kept in the inbox
    payload_hash: str | None = None  # tells a re-send from a different body with the same id
