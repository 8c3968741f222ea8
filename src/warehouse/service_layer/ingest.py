"""Ingesting a batch of floor events exactly once: dedupe, resolve, post, track seqs, in one
transaction; the caller publishes the returned acks after the commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from warehouse.domain.errors import DomainError, NotFound
from warehouse.domain.model import Location, Movement
from warehouse.service_layer import observations, posting
from warehouse.service_layer.commands import FloorEvent, IngestResult, UndecodableEvent
from warehouse.service_layer.ports import InboxEntry, Rejection, SeqReport, UnitOfWork
from warehouse.service_layer.resolve import Catalog, Provenance, build_movement

log = logging.getLogger(__name__)

#: Rejected payloads above this size are kept truncated (with their full size recorded).
MAX_STORED_PAYLOAD = 64 * 1024


def ingest_batch(
    uow: UnitOfWork,
    catalog: Catalog,
    items: Sequence[FloorEvent | UndecodableEvent],
    now: datetime,
) -> IngestResult:
    """Apply a batch of events in one transaction; return counts and the acks to publish."""
    result = IngestResult()
    batch = _Batch(now)
    with uow:
        for item in items:
            if isinstance(item, UndecodableEvent):
                batch.undecodable(item)
            elif item.event_id in batch.seen:
                result.duplicates += 1
            else:
                batch.decoded(uow, catalog, item)
        claimed = uow.inbox.claim(batch.entries)
        result.duplicates += len(batch.entries) - len(claimed)
        movements = [m for eid, m in batch.movements if eid in claimed]
        posting.post(uow, movements, now, enforce=False)
        rejections = batch.loose + [r for eid, r in batch.rejections if eid in claimed]
        uow.rejections.add(rejections)
        for event, location in batch.observations:
            if event.event_id in claimed:
                observations.observe(uow, catalog, event, location, now)
        for event in batch.heartbeats:
            if event.event_id in claimed and event.heartbeat is not None:
                uow.agents.heartbeat(event.agent_id, event.site, event.heartbeat, now)
        result.acks = _track_seqs(uow, batch, claimed, now)
        uow.commit()
    result.applied = len(movements)
    result.rejected = len(rejections)
    result.recorded = sum(
        1 for e in batch.entries if e.status == "recorded" and e.event_id in claimed
    )
    return result


class _Batch:
    """What one batch resolved to, before the inbox says which events are new."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.seen: set[str] = set()
        self.entries: list[InboxEntry] = []
        self.movements: list[tuple[str, Movement]] = []
        self.rejections: list[tuple[str, Rejection]] = []
        self.loose: list[Rejection] = []  # no event id: cannot be deduplicated
        self.heartbeats: list[FloorEvent] = []
        self.observations: list[tuple[FloorEvent, Location]] = []
        self.agents: dict[str, tuple[str, int]] = {}  # agent -> (site, highest boot)

    def _entry(
        self,
        event_id: str,
        agent: str | None,
        site: str | None,
        seq: int | None,
        kind: str,
        status: str,
        payload: bytes | None = None,
    ) -> None:
        self.seen.add(event_id)
        self.entries.append(InboxEntry(event_id, agent, site, seq, kind, status, self.now, payload))

    def undecodable(self, item: UndecodableEvent) -> None:
        rejection = _rejection(
            self.now,
            item.reason,
            item.detail,
            item.payload,
            item.topic,
            item.event_id,
            item.agent_id,
            item.site,
            item.seq,
        )
        if item.event_id is None:
            self.loose.append(rejection)
            return
        if item.event_id in self.seen:
            return
        self._entry(item.event_id, item.agent_id, item.site, item.seq, "invalid", "rejected")
        self.rejections.append((item.event_id, rejection))
        if item.agent_id and item.site:
            self._agent(item.agent_id, item.site, 0)

    def decoded(self, uow: UnitOfWork, catalog: Catalog, event: FloorEvent) -> None:
        self._agent(event.agent_id, event.site, event.boot)
        status, payload = "recorded", None
        if event.type == "movement" and event.movement is not None:
            source = Provenance(
                event.occurred_at,
                "mqtt",
                event.event_id,
                event.agent_id,
                event.device,
                event.station,
            )
            try:
                movement = build_movement(uow, catalog, event.movement, source)
            except DomainError as exc:
                reason = _reason(exc)
                log.info(
                    "rejected event_id=%s agent_id=%s seq=%s: %s %s",
                    event.event_id,
                    event.agent_id,
                    event.seq,
                    reason,
                    exc.message,
                )
                status = "rejected"
                self._reject(event, reason, exc.message)
            else:
                status = "applied"
                self.movements.append((event.event_id, movement))
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
        else:
            payload = event.payload  # kept so a later version can apply what this one records
        self._entry(
            event.event_id, event.agent_id, event.site, event.seq, event.type, status, payload
        )

    def _reject(self, event: FloorEvent, reason: str, detail: str) -> None:
        self.rejections.append(
            (
                event.event_id,
                _rejection(
                    self.now,
                    reason,
                    detail,
                    event.payload or b"",
                    None,
                    event.event_id,
                    event.agent_id,
                    event.site,
                    event.seq,
                ),
            )
        )

    def _agent(self, agent_id: str, site: str, boot: int) -> None:
        _, known = self.agents.get(agent_id, (site, 0))
        self.agents[agent_id] = (site, max(known, boot))


def _reason(exc: DomainError) -> str:
    if isinstance(exc, NotFound):
        return (
            "unknown_location"
            if exc.field in ("from_location", "to_location")
            else "unknown_product"
        )
    return "invalid_movement"


def _rejection(
    now: datetime,
    reason: str,
    detail: str,
    payload: bytes,
    topic: str | None,
    event_id: str | None,
    agent_id: str | None,
    site: str | None,
    seq: int | None,
) -> Rejection:
    return Rejection(
        now,
        reason,
        detail,
        payload[:MAX_STORED_PAYLOAD],
        len(payload),
        topic,
        event_id,
        agent_id,
        site,
        seq,
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
