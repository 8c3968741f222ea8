"""What an exception's page shows as its evidence: the raw body of the event behind it, as it
arrived (from the rejected events, or from the inbox for an event that waits on a code)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable

from sqlalchemy import Connection, select

from warehouse.ingest.adapters import tables as ingest_tables

#: Characters of a body shown at most (the API's rejected-events route has the whole of it).
SHOWN = 4000


def payloads(conn: Connection, event_ids: Iterable[str]) -> dict[str, str]:
    """Event id -> its body as text (pretty JSON where it parses), for those that have one."""
    wanted = sorted({e for e in event_ids if e})
    if not wanted:
        return {}
    r, i = ingest_tables.rejected_events, ingest_tables.inbox
    found: dict[str, bytes] = {}
    for event_id, body in conn.execute(
        select(r.c.event_id, r.c.payload).where(r.c.event_id.in_(wanted)).order_by(r.c.id)
    ):
        found.setdefault(event_id, body)
    missing = [e for e in wanted if e not in found]
    if missing:
        rows = conn.execute(select(i.c.event_id, i.c.payload).where(i.c.event_id.in_(missing)))
        found.update({event_id: body for event_id, body in rows if body})
    return {event_id: _text(body) for event_id, body in found.items()}


def _text(body: bytes) -> str:
    text = bytes(body).decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError, RecursionError):  # not JSON, or nested too deep
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN] + f"\n… ({len(text) - SHOWN} more)"
