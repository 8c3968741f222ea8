"""Edge agents' sequences: asking for what went missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warehouse.service_layer.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ResyncRequest:
    """Ask ``agent_id`` at ``site`` to send everything again from ``from_seq``."""

    site: str
    agent_id: str
    from_seq: int


def request_resyncs(
    uow: UnitOfWork, now: datetime, *, after_s: float, every_s: float
) -> list[ResyncRequest]:
    """The gaps open for ``after_s`` seconds and not asked about in the last ``every_s``: one
    request per agent, from its first missing seq. Claimed in this transaction, so several
    workers do not ask twice; the caller publishes them after the commit."""
    with uow:
        due = uow.agents.due_resyncs(
            now - timedelta(seconds=after_s), now - timedelta(seconds=every_s), now
        )
        uow.commit()
    return [ResyncRequest(site, agent, seq) for site, agent, seq in due]
