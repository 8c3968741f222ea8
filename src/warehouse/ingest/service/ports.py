"""Ports of the ingest: the inbox of event ids, agents and their sequences, rejected events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from warehouse.counts.service.ports import CountsUnitOfWork
from warehouse.orders.service.ports import OrdersUnitOfWork
from warehouse.pos.service.ports import PosUnitOfWork


@dataclass(slots=True)  # not frozen: one per ingested event (see floor/events.py)
class InboxEntry:
    """The dedupe row of one event: its id claims it once and for all."""

    event_id: str
    agent_id: str | None
    site: str | None
    seq: int | None
    type: str
    status: str  # applied | rejected | recorded
    received_at: datetime
    payload: bytes | None = None
    payload_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected event, kept with its raw payload and a specific reason."""

    received_at: datetime
    reason: str
    detail: str
    payload: bytes
    payload_size: int
    topic: str | None = None
    event_id: str | None = None
    agent_id: str | None = None
    site: str | None = None
    seq: int | None = None
    payload_hash: str | None = None
    original_payload: bytes | None = None  # a conflicting duplicate's first body


class InboxRepository(Protocol):
    def claim(self, entries: Sequence[InboxEntry]) -> set[str]: ...
    def bodies(self, event_ids: Iterable[str]) -> dict[str, tuple[str | None, bytes | None]]: ...
    def seqs_above(self, acked: Mapping[str, int], limit: int) -> dict[str, list[int]]: ...


@dataclass(frozen=True, slots=True)
class SeqReport:
    """What one batch saw of one agent: its site, the seqs it committed, the highest boot."""

    agent_id: str
    site: str
    seqs: Sequence[int]
    boot: int | None


class AgentRepository(Protocol):
    def track(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, int]: ...
    def heartbeat(self, agent_id: str, site: str, health: dict[str, Any], at: datetime) -> None: ...
    def status(self, agent_id: str, site: str, state: str, at: datetime) -> None: ...
    def lost_below(self, agent_id: str, below: int, at: datetime) -> None: ...
    def due_resyncs(  # (site, agent, from seq, gaps asked about for the first time)
        self, opened_before: datetime, asked_before: datetime, at: datetime
    ) -> list[tuple[str, str, int, list[tuple[int, int]]]]: ...


class RejectionRepository(Protocol):
    def add(self, rejections: Sequence[Rejection]) -> None: ...
    def conflicts_known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...


class IngestUnitOfWork(OrdersUnitOfWork, CountsUnitOfWork, PosUnitOfWork, Protocol):
    """Every repository: a batch of floor events reaches orders, counts and sales."""

    inbox: InboxRepository
    agents: AgentRepository
    rejections: RejectionRepository
