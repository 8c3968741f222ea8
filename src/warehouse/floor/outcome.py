"""What a station is told back, and what reacting to a batch of floor events decided: the
feedback and exceptions that orders, counts and sales collect inside the ingest's transaction,
which the ingest publishes and stores after the commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from warehouse.exceptions.domain import SUGGESTIONS, ExceptionKind
from warehouse.exceptions.service.ports import NewException
from warehouse.floor.events import FloorEvent
from warehouse.stock.domain.model import Movement


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
class Scan:
    """A floor event that concerns an order or a count: its event, and the movement it
    reported (None for a package scan, which names an SSCC rather than a product, or a code
    scanned at a counting or packing station)."""

    event: FloorEvent
    movement: Movement | None
    sscc: str | None = None
    kind: str = ""  # the movement kind the station reported (for a package scan)
    location: str | None = None  # the station's location (for a package scan)


@dataclass(slots=True)
class Outcome:
    """What reacting to a batch's floor events decided besides stock: exceptions for the queue
    and what each station is told, which the ingest stores and publishes after the commit."""

    exceptions: list[NewException] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)

    def tell(self, scan: Scan, level: str, text: str) -> None:
        """Feedback to the station that sent ``scan``."""
        event = scan.event
        self.feedback.append(
            Feedback(event.site, event.agent_id, level, text[:200], event.device, event.event_id)
        )

    def flag(
        self,
        kind: ExceptionKind,
        detail: str,
        scan: Scan | None = None,
        *,
        site: str | None = None,
        order_ref: str | None = None,
        sku: str | None = None,
        location: str | None = None,
        lot: str | None = None,
        qty: Decimal | None = None,
        code: str | None = None,
    ) -> None:
        """An exception for the queue, about ``scan`` when a scan caused it."""
        event = scan.event if scan else None
        movement = scan.movement if scan else None
        self.exceptions.append(
            NewException(
                kind=kind.value,
                detail=detail,
                suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
                site=site or (event.site if event else None),
                event_id=event.event_id if event else None,
                agent_id=event.agent_id if event else None,
                station=event.station if event else None,
                order_ref=order_ref or (movement.order_ref if movement else None),
                sku=sku or (movement.product.sku if movement else None),
                location=location,
                lot=lot or (movement.lot if movement else None) or None,
                qty=qty,
                code=code or (movement.code if movement else None) or (scan.sscc if scan else None),
            )
        )


_SEVERITY = {"ok": 0, "warn": 1, "error": 2}


def per_device(feedback: Sequence[Feedback]) -> list[Feedback]:
    """One command per device and batch. At the pace people scan a batch holds one scan per
    device, so nothing changes; when a backlog arrives at once (an outbox replayed after an
    outage) the station is told once: the worst level, with that scan's text and how many
    more scans the command covers, instead of beeping hundreds of times."""
    groups: dict[tuple[str, str, str | None], list[Feedback]] = {}
    for item in feedback:
        groups.setdefault((item.site, item.agent_id, item.device), []).append(item)
    out = []
    for items in groups.values():
        if len(items) == 1:
            out.append(items[0])
            continue
        worst = max(_SEVERITY.get(i.level, 2) for i in items)
        last = [i for i in items if _SEVERITY.get(i.level, 2) == worst][-1]
        text = f"{last.text} (+{len(items) - 1} more scans)"
        out.append(replace(last, text=text[:200]))
    return out
