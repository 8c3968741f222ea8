"""Response bodies of rejected events and agents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RejectedEventOut(BaseModel):
    """An event the ingest worker refused, with why and what it was."""

    id: int
    received_at: datetime
    reason: str
    detail: str
    topic: str | None
    event_id: str | None
    agent_id: str | None
    site: str | None
    seq: int | None
    payload: str
    payload_size: int
    payload_truncated: bool
    original_payload: str | None = Field(
        None, description="For a conflicting_duplicate: the body first received with this id"
    )


class RejectedPage(BaseModel):
    """A page of rejected events, newest first."""

    items: list[RejectedEventOut]
    next_cursor: str | None


class Gap(BaseModel):
    """A range of seqs an agent has not delivered. The service asks the agent to send it again
    (``resync_*``); ``unrecoverable`` once the agent says it no longer has those events."""

    first_seq: int
    last_seq: int
    detected_at: datetime
    resync_requested_at: datetime | None
    resync_count: int
    unrecoverable: bool
    unrecoverable_at: datetime | None


class AgentOut(BaseModel):
    """An edge agent as the service knows it."""

    agent_id: str
    site: str
    first_seen: datetime
    last_seen: datetime
    boot: int
    acked_seq: int
    max_seq: int
    state: str | None
    state_at: datetime | None
    gaps: list[Gap]
    missing: int
    health: dict[str, object] | None
    heartbeat_at: datetime | None
