"""Edge agents' sequences: asking for what went missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warehouse.exceptions.domain import SUGGESTIONS, ExceptionKind
from warehouse.exceptions.service.ports import NewException
from warehouse.ingest.service.ports import IngestUnitOfWork


@dataclass(frozen=True, slots=True)
class ResyncRequest:
    """Ask ``agent_id`` at ``site`` to send everything again from ``from_seq``."""

    site: str
    agent_id: str
    from_seq: int


def request_resyncs(
    uow: IngestUnitOfWork, now: datetime, *, after_s: float, every_s: float
) -> list[ResyncRequest]:
    """The gaps open for ``after_s`` seconds and not asked about in the last ``every_s``: one
    request per agent, from its first missing seq. Claimed in this transaction, so several
    workers do not ask twice; the caller publishes them after the commit. A gap asked about
    for the first time (it stayed open ``after_s``) is a ``sequence_gap`` exception too."""
    kind = ExceptionKind.SEQUENCE_GAP
    with uow:
        due = uow.agents.due_resyncs(
            now - timedelta(seconds=after_s), now - timedelta(seconds=every_s), now
        )
        uow.exceptions.add(
            [
                NewException(
                    kind=kind.value,
                    detail=f"agent {agent} has not delivered seqs {first}..{last} "
                    f"(open {after_s:.0f} s; asked to re-send)",
                    suggestions=tuple(r.value for r in SUGGESTIONS[kind]),
                    site=site,
                    agent_id=agent,
                    code=f"{first}-{last}",
                )
                for site, agent, _seq, fresh in due
                for first, last in fresh
            ],
            now,
        )
        uow.commit()
    return [ResyncRequest(site, agent, seq) for site, agent, seq, _ in due]
