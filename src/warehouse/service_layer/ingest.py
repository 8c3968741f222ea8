"""Ingesting floor events exactly once: dedupe, resolve, post, track seqs, in one transaction;
the caller publishes the returned acks after the commit.

Two entry points:

- :func:`ingest_batch` applies a batch in one transaction.
- :func:`ingest` is what the worker calls: :func:`ingest_batch`, isolating whatever makes a
  batch fail. A batch that fails for any reason but an unreachable database is split in halves
  until the item that fails is alone; that item is then recorded as rejected with the reason and
  acknowledged, and everything before and after it flows on. Serialization failures and
  deadlocks are retried a few times first. An unreachable database (or a missing schema) is the
  caller's to wait out: nothing is rejected for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from warehouse import logs
from warehouse.domain import ledger
from warehouse.domain.errors import DomainError, NotFound, OutOfRange
from warehouse.domain.model import Location, Movement, MovementKind
from warehouse.service_layer import (
    counts,
    dispatch,
    exceptions,
    observations,
    picking,
    pos,
    posting,
)
from warehouse.service_layer.commands import (
    AgentStatus,
    Feedback,
    FloorEvent,
    IngestResult,
    Item,
    UndecodableEvent,
)
from warehouse.service_layer.policies import DEFAULT_POLICY, StockPolicy
from warehouse.service_layer.ports import (
    FailureClassifier,
    InboxEntry,
    Rejection,
    SeqReport,
    UnitOfWork,
)
from warehouse.service_layer.ports_orders import NewException
from warehouse.service_layer.reconcile import Scan, per_device
from warehouse.service_layer.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)

#: Rejected payloads above this size are kept truncated (with their full size recorded).
MAX_STORED_PAYLOAD = 64 * 1024
#: How often a batch that hit a serialization failure or deadlock is tried again before it is
#: split like any other failing batch.
RETRIES = 3


@dataclass(frozen=True, slots=True)
class Poisoned:
    """An item that failed its batch on its own: to be recorded as rejected with ``reason``."""

    item: FloorEvent | UndecodableEvent
    reason: str
    detail: str


def ingest(
    new_uow: Callable[[], UnitOfWork],
    catalog: Catalog,
    items: Sequence[Item],
    now: datetime,
    classify: FailureClassifier,
    *,
    policy: StockPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestResult:
    """Apply ``items``, isolating any that cannot be applied; raise only what ``classify``
    calls ``unavailable`` or ``fatal`` (the caller waits, or stops)."""

    def run(chunk: Sequence[Item | Poisoned]) -> IngestResult:
        attempt = 0
        while True:
            try:
                return ingest_batch(new_uow(), catalog, chunk, now, policy=policy)
            except Exception as exc:  # sorted by classify; what it cannot name is isolated
                kind = classify(exc)
                if kind in ("unavailable", "fatal"):
                    raise
                if kind == "retry" and attempt < RETRIES:
                    attempt += 1
                    sleep(0.02 * 2**attempt)
                    continue
                if len(chunk) > 1:
                    middle = len(chunk) // 2
                    result = run(chunk[:middle])
                    result.add(run(chunk[middle:]))
                    return result
                return poison(chunk[0], exc)

    def poison(item: Item | Poisoned, exc: Exception) -> IngestResult:
        if isinstance(item, AgentStatus):
            log.error("status of agent %s could not be recorded: %s", item.agent_id, exc)
            return IngestResult()
        if isinstance(item, Poisoned):  # recording it failed: keep what can be kept
            log.error("could not record rejected event %s: %s", item.item.event_id, exc)
            return _loose(new_uow, catalog, item, now, classify)
        reason, detail = _failure(exc)
        if isinstance(item, UndecodableEvent):  # its own reason says more than the database's
            reason, detail = item.reason, f"{item.detail} (stored after: {detail})"
        log.warning(
            "event_id=%s agent_id=%s seq=%s failed its batch and is rejected: %s %s",
            item.event_id,
            item.agent_id,
            item.seq,
            reason,
            detail,
            extra=logs.ids(item.event_id, item.agent_id, item.seq),
        )
        result = run([Poisoned(item, reason, detail)])
        result.poison += 1
        return result

    return run(list(items))


def _loose(
    new_uow: Callable[[], UnitOfWork],
    catalog: Catalog,
    poisoned: Poisoned,
    now: datetime,
    classify: FailureClassifier,
) -> IngestResult:
    """The last resort: the payload and reason alone, with no ids (nothing is acked)."""
    item = poisoned.item
    bare = UndecodableEvent(
        getattr(item, "topic", "") or "", item.payload or b"", poisoned.reason, poisoned.detail
    )
    try:
        return ingest_batch(new_uow(), catalog, [bare], now)
    except Exception as exc:
        if classify(exc) in ("unavailable", "fatal"):
            raise
        log.exception("a rejected event could not be stored at all; its edge will re-send it")
        return IngestResult()


def _failure(exc: Exception) -> tuple[str, str]:
    """The reason and detail recorded for an item that failed on its own."""
    if isinstance(exc, DomainError):
        return _reason(exc), exc.message
    origin = getattr(exc, "orig", None)  # a database driver's own error, wrapped by the adapter
    if origin is not None:
        text = str(origin).strip().splitlines()
        return "database_error", (text[0] if text else type(origin).__name__)[:500]
    error_id = uuid.uuid4().hex[:12]
    log.error("internal error %s", error_id, exc_info=exc)
    return "internal_error", f"{type(exc).__name__}: {str(exc)[:300]} (error id {error_id})"


def ingest_batch(
    uow: UnitOfWork,
    catalog: Catalog,
    items: Sequence[Item | Poisoned],
    now: datetime,
    *,
    policy: StockPolicy = DEFAULT_POLICY,
) -> IngestResult:
    """Apply a batch in one transaction; return counts and the acks to publish."""
    result = IngestResult()
    batch = _Batch(now, policy)
    with uow:
        catalog.refresh(uow)
        for item in items:
            if isinstance(item, AgentStatus):
                batch.statuses.append(item)
            elif isinstance(item, Poisoned):
                batch.poisoned(item)
            elif isinstance(item, UndecodableEvent):
                batch.undecodable(item)
            elif item.event_id in batch.first:
                batch.repeated(item.event_id, item)
            elif policy.require_registered_agents and not catalog.agent_registered(
                uow, item.agent_id, item.site
            ):
                batch.unknown_agent(item)
            else:
                batch.decoded(uow, catalog, item)
        claimed = uow.inbox.claim(batch.entries)
        batch.compare_with_inbox(uow, claimed)
        movements = [m for eid, m in batch.movements if eid in claimed]
        rejections = batch.loose + [r for eid, r in batch.rejections if eid in claimed]
        rejections += batch.new_conflicts(uow)
        movements = _post(uow, catalog, batch, claimed, movements, rejections, result)
        observed = [(e, loc) for e, loc in batch.observations if e.event_id in claimed]
        swept = observations.observe_all(uow, catalog, observed, now)
        uow.exceptions.add(exceptions.of_sweeps(uow, swept), now)
        counts.count_sweeps(uow, catalog, [(e, loc.id or 0, loc.code) for e, loc in observed])
        for event in batch.heartbeats:
            if event.event_id in claimed and event.heartbeat is not None:
                uow.agents.heartbeat(event.agent_id, event.site, event.heartbeat, now)
                kept = event.heartbeat.get("oldest_kept_seq")
                if isinstance(kept, int):  # below it the agent can re-send nothing
                    uow.agents.lost_below(event.agent_id, kept, now)
        for status in batch.statuses:
            if not policy.require_registered_agents or catalog.agent_registered(
                uow, status.agent_id, status.site
            ):  # anyone's retained status would otherwise make an "agent"
                uow.agents.status(status.agent_id, status.site, status.state, now)
        result.acks = _track_seqs(uow, batch, claimed, now)
        uow.commit()
    result.applied = len(movements)
    result.rejected = len(rejections) - len(batch.conflicts)
    result.reasons = _by_reason(rejections)
    result.conflicts = batch.conflicts_seen
    result.duplicates = batch.duplicates + len(batch.entries) - len(claimed) - batch.dup_conflicts
    result.recorded = sum(
        1 for e in batch.entries if e.status == "recorded" and e.event_id in claimed
    )
    return result


class _Batch:
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
        self.sales: list[FloorEvent] = []  # baskets from edge registers
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

    def compare_with_inbox(self, uow: UnitOfWork, claimed: set[str]) -> None:
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

    def new_conflicts(self, uow: UnitOfWork) -> list[Rejection]:
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
            exceptions.of_rejection(r, e if isinstance(e, FloorEvent) else None)
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

    def decoded(self, uow: UnitOfWork, catalog: Catalog, event: FloorEvent) -> None:
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
            source = Provenance(
                event.occurred_at,
                "mqtt",
                event.event_id,
                event.agent_id,
                event.device,
                event.station,
            )
            try:
                movement = build_movement(uow, catalog, event.movement, source, self.policy)
            except DomainError as exc:
                reason = _reason(exc)
                log.info(
                    "rejected event_id=%s agent_id=%s seq=%s: %s %s",
                    event.event_id,
                    event.agent_id,
                    event.seq,
                    reason,
                    exc.message,
                    extra=logs.ids(event.event_id, event.agent_id, event.seq),
                )
                status = "rejected"
                self._reject(event, reason, exc.message)
            else:
                status = "applied"
                policy = self.policy
                movement.flags += ledger.skew_flags(
                    event.occurred_at, self.now, policy.clock_ahead_s, policy.clock_behind_s
                )
                self.movements.append((event.event_id, movement))
                kind = movement.kind
                if kind is MovementKind.RECEIVE or (
                    kind is MovementKind.PICK and movement.order_ref
                ):
                    self.scans.append(Scan(event, movement))
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
        elif event.type == "sale" and event.sale is not None:
            status = "applied"
            self.sales.append(event)
        elif event.type == "scan" and event.scan is not None:
            self.counted.append(event)
        self._entry(event, status)

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


def _post(
    uow: UnitOfWork,
    catalog: Catalog,
    batch: _Batch,
    claimed: set[str],
    movements: list[Movement],
    rejections: list[Rejection],
    result: IngestResult,
) -> list[Movement]:
    """Match the new order scans (dispatch.py), post what stands, record rejections and
    exceptions, and collect the stations' feedback; return the movements posted."""
    now = batch.now
    orders = dispatch.floor_scans(
        uow, catalog, [s for s in batch.scans if s.event.event_id in claimed], now
    )
    if orders.refused:
        movements = [m for m in movements if m.event_id not in orders.refused]
    movements += orders.post
    sold = pos.floor_sales(
        uow, catalog, [(e, e.sale) for e in batch.sales if e.event_id in claimed and e.sale], now
    )
    movements += sold.movements
    posting.post(uow, movements, now, enforce=False)
    uow.orders.reserve(orders.reserved, now)
    scans = [e for e in batch.counted if e.event_id in claimed and e.scan is not None]
    picking.pack_scans(uow, catalog, [e for e in scans if e.scan and e.scan.order_ref], orders)
    counts.count_scans(uow, catalog, [e for e in scans if e.scan and not e.scan.order_ref], orders)
    uow.rejections.add(rejections)
    found = orders.exceptions + sold.exceptions + batch.exceptions(rejections)
    found += exceptions.of_negative(uow, movements)
    uow.exceptions.add(found, now)
    result.feedback = per_device(orders.feedback + batch.refusal_feedback(rejections))
    return movements


def _by_reason(rejections: Sequence[Rejection]) -> dict[str, int]:
    """How many were rejected for each reason (conflicts are counted apart)."""
    out: dict[str, int] = {}
    for rejection in rejections:
        if rejection.reason != "conflicting_duplicate":
            out[rejection.reason] = out.get(rejection.reason, 0) + 1
    return out


def _reason(exc: DomainError) -> str:
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


def _track_seqs(
    uow: UnitOfWork, batch: _Batch, claimed: set[str], now: datetime
) -> dict[tuple[str, str], int]:
    """Advance each agent's contiguous seq; agents whose events were all duplicates are acked
    again at their current seq, because the edge re-sends only what it has not seen acked."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for entry in batch.entries:
        if entry.event_id in claimed and entry.agent_id and entry.seq is not None:
            seqs[entry.agent_id].append(entry.seq)
    reports = [
        SeqReport(agent_id, site, sorted(seqs[agent_id]), boot)
        for agent_id, (site, boot) in sorted(batch.agents.items())
    ]
    acked = uow.agents.track(reports, now)
    return {(r.site, r.agent_id): acked[r.agent_id] for r in reports}
