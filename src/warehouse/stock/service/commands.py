"""Inputs to the stock use cases: plain data, translated at the edges from MQTT or HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


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
    unit: str | None = None  # of qty, when not the product's (converted within its dimension)


@dataclass(frozen=True, slots=True)
class ManualMovement:
    """A movement entered through the API (receipt, transfer, adjustment)."""

    request: MovementRequest
    actor: str | None = None
    note: str | None = None
    occurred_at: datetime | None = None
    principal: str = "system"  # who posted it, for the audit log (user:alice, key:…)
    site: str | None = None  # the site it concerns, for the audit log
