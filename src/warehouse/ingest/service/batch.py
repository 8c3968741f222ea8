"""One batch of the ingest, before the inbox says which of its events are new: what each event
resolved to, its inbox entry, and every copy of an event id compared with the first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from warehouse import logs
from warehouse.core.errors import DomainError, NotFound, OutOfRange
from warehouse.exceptions.service.ports import NewException
from warehouse.floor.events import FloorEvent
from warehouse.floor.outcome import Feedback, Scan
from warehouse.ingest.service.commands import AgentStatus, UndecodableEvent
from warehouse.ingest.service.ports import InboxEntry, IngestUnitOfWork, Rejection
from warehouse.ingest.service.rejections import of_rejection
from warehouse.orders.service import dispatch
from warehouse.stock.domain import ledger
from warehouse.stock.domain.model import Location, Movement, MovementKind
from warehouse.stock.service.commands import MovementRequest
from warehouse.stock.service.policies import StockPolicy
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)


#: Rejected payloads above this size are kept truncated (with their full size recorded).
MAX_STORED_PAYLOAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Poisoned:
    """An item that failed its batch on its own: to be recorded as rejected with ``reason``."""

    item: FloorEvent | UndecodableEvent
    reason: str
    detail: str


class Batch:
    """What one batch resolved to, before the inbox says which events are new."""

    def __init__(self, now: datetime, policy: StockPolicy) -> None:
        self.now = now
        self.policy = policy
        # event id -> (body hash, body) of its first copy in this batch
        self.first: dict[str, tuple[str | None, bytes | None]] = {}
        self.items: dict[str, FloorEvent | UndecodableEvent] = {}  # by event id
        self.entries: list[InboxEntry] = []
        self.movements: list[tuple[str, Movement]] = []
        self.rejections: list[tuple[str, Rejection]] = []
        self.loose: list[Rejection] = []  # no event id: cannot be deduplicated
        self.heartbeats: list[FloorEvent] = []
        self.scans: list[Scan] = []  # those that concern orders (dispatch.py)
        self.counted: list[FloorEvent] = []  # code scans: counted if a count covers them
        self.sales: list[FloorEvent] = []  # edge registers' sales, sessions and drawer events
        self.observations: list[tuple[FloorEvent, Location]] = []
        self.statuses: list[AgentStatus] = []
        self.agents: dict[str, tuple[str, int]] = {}  # agent -> (site, highest boot)
        self.conflicts: list[Rejection] = []  # after new_conflicts: those not stored before
        self.conflicts_seen = 0  # every conflicting copy, stored before or not
        self.repeats: list[FloorEvent | UndecodableEvent] = []  # later copies in the batch
        self.duplicates = 0  # repeats within the batch with the first body
        self.dup_conflicts = 0  # claimed-before events whose new body differs

    def _entry(self, item: FloorEvent | UndecodableEvent, status: str) -> None:
        assert item.event_id is not None
        if isinstance(item, FloorEvent):
            kind, boot, payload = item.type, item.boot, item.payload
        else:  # kept truncated: its whole body, up to the limit, is in the rejection too
            kind, boot, payload = "invalid", 0, item.payload[:MAX_STORED_PAYLOAD]
        self.first[item.event_id] = (item.payload_hash, payload)
        self.items[item.event_id] = item
        self.entries.append(
            InboxEntry(
                item.event_id,
                item.agent_id,
                item.site,
                item.seq,
                kind,
                status,
                self.now,
                payload,
                item.payload_hash,
            )
        )
        if item.agent_id and item.site:
            self._agent(item.agent_id, item.site, boot)

    def undecodable(self, item: UndecodableEvent) -> None:
        rejection = _rejection(self.now, item, item.reason, item.detail)
        if item.event_id is None:
            self.loose.append(rejection)
        elif item.event_id in self.first:
            self.repeated(item.event_id, item)
        else:
            self._entry(item, "rejected")
            self.rejections.append((item.event_id, rejection))

    def poisoned(self, poisoned: Poisoned) -> None:
        item = poisoned.item
        rejection = _rejection(self.now, item, poisoned.reason, poisoned.detail)
        if item.event_id is None:
            self.loose.append(rejection)
        else:
            self._entry(item, "rejected")
            self.rejections.append((item.event_id, rejection))

    def repeated(self, event_id: str, item: FloorEvent | UndecodableEvent) -> None:
        """A second copy of an event id in the same batch: judged once the inbox has said
        whether the batch's first copy is the first of all."""
        self.repeats.append(item)
        if item.agent_id and item.site:
            self._agent(item.agent_id, item.site, 0)

    def compare_with_inbox(self, uow: IngestUnitOfWork, claimed: set[str]) -> None:
        """Every copy of an event id compared with its first body (in the inbox, or this
        batch's first copy when the inbox did not have it): a different body is a conflict."""
        known = [e.event_id for e in self.entries if e.event_id not in claimed]
        stored = uow.inbox.bodies(known) if known else {}
        for event_id in known:
            first_hash, first_body = stored.get(event_id, (None, None))
            if self._compare(self.items[event_id], first_hash, first_body):
                self.dup_conflicts += 1
        for item in self.repeats:
            assert item.event_id is not None
            if item.event_id in claimed:
                first_hash, first_body = self.first[item.event_id]
            else:
                first_hash, first_body = stored.get(item.event_id, (None, None))
            if not self._compare(item, first_hash, first_body):
                self.duplicates += 1

    def _compare(
        self, item: FloorEvent | UndecodableEvent, first_hash: str | None, first: bytes | None
    ) -> bool:
        if _differs(item.payload_hash, first_hash):
            self.conflicts.append(_conflict(self.now, item, first))
            return True
        return False

    def new_conflicts(self, uow: IngestUnitOfWork) -> list[Rejection]:
        """Conflicts not recorded before: a rogue re-sending one body is stored once."""
        if not self.conflicts:
            return []
        self.conflicts_seen = len(self.conflicts)
        keys = [(r.event_id or "", r.payload_hash or "") for r in self.conflicts]
        known = uow.rejections.conflicts_known(keys)
        fresh: list[Rejection] = []
        seen: set[tuple[str, str]] = set()
        for key, rejection in zip(keys, self.conflicts, strict=True):
            if key not in known and key not in seen:
                seen.add(key)
                fresh.append(rejection)
        self.conflicts = fresh
        return fresh

    def exceptions(self, rejections: Sequence[Rejection]) -> list[NewException]:
        """Every rejection is an exception for the queue (an unknown code waits to be
        linked to a product); the edge sees it acked like any rejection."""
        return [
            of_rejection(r, e if isinstance(e, FloorEvent) else None)
            for r in rejections
            for e in [self.items.get(r.event_id) if r.event_id else None]
        ]

    def refusal_feedback(self, rejections: Sequence[Rejection]) -> list[Feedback]:
        """An ``error`` to the station of every rejected receive, pick or ship scan."""
        out = []
        for r in rejections:
            event = self.items.get(r.event_id) if r.event_id else None
            if (
                isinstance(event, FloorEvent)
                and event.station
                and event.movement is not None
                and event.movement.kind in dispatch.ORDER_KINDS
                and r.reason != "conflicting_duplicate"
            ):
                out.append(
                    Feedback(
                        event.site,
                        event.agent_id,
                        "error",
                        r.detail[:200],
                        event.device,
                        event.event_id,
                    )
                )
        return out

    def decoded(self, uow: IngestUnitOfWork, catalog: Catalog, event: FloorEvent) -> None:
        status = "recorded"
        request = event.movement
        sscc = (
            catalog.sscc(request)
            if request is not None and request.kind in ("receive", "ship")
            else None
        )
        if sscc is not None and request is not None:
            station_at = request.to_location if request.kind == "receive" else request.from_location
            self.scans.append(Scan(event, None, sscc, request.kind, station_at))
        elif event.type == "movement" and event.movement is not None:
            status = self._movement(uow, catalog, event, event.movement)
        elif event.type == "observation" and event.observation is not None:
            code = event.observation.location or event.observation.zone
            try:
                location = catalog.location(uow, code, "location")
            except DomainError as exc:
                status = "rejected"
                self._reject(event, "unknown_location", exc.message)
            else:
                status = "applied"
                self.observations.append((event, location))
        elif event.type == "heartbeat":
            self.heartbeats.append(event)
        elif event.sale is not None or event.session is not None or event.drawer is not None:
            status = "applied"
            self.sales.append(event)
        elif event.type == "scan" and event.scan is not None:
            self.counted.append(event)
        self._entry(event, status)

    def _movement(
        self, uow: IngestUnitOfWork, catalog: Catalog, event: FloorEvent, request: MovementRequest
    ) -> str:
        """A movement event resolved and checked: ``applied`` (its clock skew flagged), or
        ``rejected`` with the reason its code, locations or quantity give."""
        source = Provenance(
            event.occurred_at,
            "mqtt",
            event.event_id,
            event.agent_id,
            event.device,
            event.station,
        )
        try:
            movement = build_movement(uow, catalog, request, source, self.policy)
        except DomainError as exc:
            reason = reason_of(exc)
            log.info(
                "rejected event_id=%s agent_id=%s seq=%s: %s %s",
                event.event_id,
                event.agent_id,
                event.seq,
                reason,
                exc.message,
                extra=logs.ids(event.event_id, event.agent_id, event.seq),
            )
            self._reject(event, reason, exc.message)
            return "rejected"
        policy = self.policy
        movement.flags += ledger.skew_flags(
            event.occurred_at, self.now, policy.clock_ahead_s, policy.clock_behind_s
        )
        self.movements.append((event.event_id, movement))
        kind = movement.kind
        if kind is MovementKind.RECEIVE or (kind is MovementKind.PICK and movement.order_ref):
            self.scans.append(Scan(event, movement))
        return "applied"

    def unknown_agent(self, event: FloorEvent) -> None:
        """An event of an agent not registered at its site (or revoked): stored as rejected,
        acked like any rejection, and nothing of it applied."""
        log.info(
            "rejected event_id=%s agent_id=%s seq=%s: unknown_agent",
            event.event_id,
            event.agent_id,
            event.seq,
            extra=logs.ids(event.event_id, event.agent_id, event.seq),
        )
        self._reject(
            event,
            "unknown_agent",
            f"agent {event.agent_id!r} is not registered at site {event.site!r} "
            "(warehouse devices register)",
        )
        self._entry(event, "rejected")

    def _reject(self, event: FloorEvent, reason: str, detail: str) -> None:
        self.rejections.append((event.event_id, _rejection(self.now, event, reason, detail)))

    def _agent(self, agent_id: str, site: str, boot: int) -> None:
        _, known = self.agents.get(agent_id, (site, 0))
        self.agents[agent_id] = (site, max(known, boot))


def reason_of(exc: DomainError) -> str:
    if isinstance(exc, NotFound):
        return (
            "unknown_location"
            if exc.field in ("from_location", "to_location")
            else "unknown_product"
        )
    if isinstance(exc, OutOfRange):
        return "quantity_out_of_range"
    return "invalid_movement"


def _rejection(
    now: datetime, item: FloorEvent | UndecodableEvent, reason: str, detail: str
) -> Rejection:
    payload = item.payload or b""
    return Rejection(
        now,
        reason,
        detail,
        payload[:MAX_STORED_PAYLOAD],
        len(payload),
        item.topic if isinstance(item, UndecodableEvent) else None,
        item.event_id,
        item.agent_id,
        item.site,
        item.seq,
        item.payload_hash,
    )


def _differs(payload_hash: str | None, first_hash: str | None) -> bool:
    return payload_hash is not None and first_hash is not None and payload_hash != first_hash


def _conflict(
    now: datetime, item: FloorEvent | UndecodableEvent, original: bytes | None
) -> Rejection:
    detail = (
        f"event_id {item.event_id} arrived again with a different body; the first one stands "
        "(both bodies are kept here)"
    )
    return replace(
        _rejection(now, item, "conflicting_duplicate", detail),
        original_payload=original[:MAX_STORED_PAYLOAD] if original else None,
    )
