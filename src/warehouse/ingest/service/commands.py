"""What one message from the broker becomes before a batch applies it, and what a batch did."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse.floor.events import FloorEvent
from warehouse.floor.outcome import Feedback


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
