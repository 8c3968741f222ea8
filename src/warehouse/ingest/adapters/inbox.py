"""The inbox of event ids: each claimed once and for all, with its body."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text

from warehouse.core import sql
from warehouse.core.sql import chunks, insert
from warehouse.ingest.adapters import tables
from warehouse.ingest.service.ports import InboxEntry

CLAIM = text("""
    INSERT INTO inbox (event_id, agent_id, site, seq, type, status, received_at, payload,
                       payload_hash)
    SELECT r.event_id, r.agent_id, r.site, r.seq, r.type, r.status, r.received_at,
           coalesce(convert_to(r.body, 'UTF8'), decode(r.payload, 'base64')), r.payload_hash
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        event_id varchar, agent_id varchar, site varchar, seq bigint, type varchar,
        status varchar, received_at timestamptz, body text, payload text, payload_hash varchar)
    ON CONFLICT DO NOTHING
    RETURNING event_id
""")


class SqlInbox:
    """Every event id ever accepted: the dedupe that makes delivery exactly-once in effect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, entries: Sequence[InboxEntry]) -> set[str]:
        claimed: set[str] = set()
        t = tables.inbox
        if not entries:
            return claimed
        if self.conn.dialect.name == "postgresql":
            rows = [_inbox_row(e) for e in entries]
            for row in rows:  # a decoded event's body is UTF-8 JSON: sent as text, not base64
                payload = row["payload"]
                if payload is not None:
                    try:
                        row["body"], row["payload"] = payload.decode(), None
                    except UnicodeDecodeError:
                        row["payload"] = base64.b64encode(payload).decode()
            claim = self.conn.execute(CLAIM, {"rows": sql.as_json(rows)})
            return set(claim.scalars().all())  # one fetch, not one per row as iterating does
        for part in chunks(entries, 200):
            rows = [_inbox_row(e) for e in part]
            stmt = (
                insert(self.conn, t).values(rows).on_conflict_do_nothing().returning(t.c.event_id)
            )
            claimed.update(self.conn.execute(stmt).scalars())
        return claimed

    def bodies(self, event_ids: Iterable[str]) -> dict[str, tuple[str | None, bytes | None]]:
        """The stored body hash and body of events already in the inbox."""
        t = tables.inbox
        wanted = sorted(set(event_ids))
        out: dict[str, tuple[str | None, bytes | None]] = {}
        for part in chunks(wanted, 500):
            rows = self.conn.execute(
                select(t.c.event_id, t.c.payload_hash, t.c.payload).where(
                    t.c.event_id.in_(list(part))
                )
            )
            for row in rows:
                out[row.event_id] = (row.payload_hash, row.payload)
        return out

    def seqs_above(self, acked: Mapping[str, int], limit: int) -> dict[str, list[int]]:
        """Per agent, up to ``limit`` committed seqs above its ack, in order, in one query."""
        if not acked:
            return {}
        t = tables.inbox
        rank = func.row_number().over(partition_by=t.c.agent_id, order_by=t.c.seq).label("rank")
        inner = (
            select(t.c.agent_id, t.c.seq, rank)
            .where(or_(*(and_(t.c.agent_id == a, t.c.seq > s) for a, s in sorted(acked.items()))))
            .subquery()
        )
        out: dict[str, list[int]] = {agent_id: [] for agent_id in acked}
        rows = self.conn.execute(
            select(inner.c.agent_id, inner.c.seq)
            .where(inner.c.rank <= limit)
            .order_by(inner.c.agent_id, inner.c.seq)
        )
        for agent_id, seq in rows:
            out[agent_id].append(seq)
        return out


def _inbox_row(e: InboxEntry) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "agent_id": e.agent_id,
        "site": e.site,
        "seq": e.seq,
        "type": e.type,
        "status": e.status,
        "received_at": e.received_at,
        "payload": e.payload,
        "payload_hash": e.payload_hash,
    }
