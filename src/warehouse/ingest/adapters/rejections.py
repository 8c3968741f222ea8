"""Rejected events, kept with their raw payload and a specific reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, select

from warehouse.core.sql import chunks, fit
from warehouse.ingest.adapters import tables
from warehouse.ingest.service.ports import Rejection


class SqlRejections:
    """Rejected events with their raw payloads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, rejections: Sequence[Rejection]) -> None:
        """Store rejections, each field cut to fit its column: whatever a payload said, the
        record of it must be storable."""
        if rejections:
            self.conn.execute(
                tables.rejected_events.insert(),
                [
                    {
                        "received_at": r.received_at,
                        "reason": fit(r.reason, 32),
                        "detail": fit(r.detail, 4000),
                        "topic": fit(r.topic, 256),
                        "event_id": fit(r.event_id, 36),
                        "agent_id": fit(r.agent_id, 64),
                        "site": fit(r.site, 64),
                        "seq": r.seq,
                        "payload": r.payload,
                        "payload_size": r.payload_size,
                        "payload_hash": fit(r.payload_hash, 32),
                        "original_payload": r.original_payload,
                    }
                    for r in rejections
                ],
            )

    def conflicts_known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (event id, body hash) conflicts are recorded already."""
        t = tables.rejected_events
        wanted = sorted(set(keys))
        found: set[tuple[str, str]] = set()
        for part in chunks(wanted, 200):
            rows = self.conn.execute(
                select(t.c.event_id, t.c.payload_hash).where(
                    t.c.reason == "conflicting_duplicate",
                    t.c.event_id.in_([event_id for event_id, _ in part]),
                )
            )
            found |= {(r.event_id, r.payload_hash) for r in rows}
        return found & set(wanted)
