"""What the ingest keeps: the inbox of event ids, agents and their seqs, rejected events."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from warehouse.adapters import orm, pg_bulk
from warehouse.adapters.sql import chunks, fit, insert
from warehouse.domain import sequences
from warehouse.service_layer.ports import InboxEntry, Rejection, SeqReport

#: How far above the acked seq an agent's committed seqs are read when advancing its ack.
SEQ_WINDOW = 20_000


class SqlInbox:
    """Every event id ever accepted: the dedupe that makes delivery exactly-once in effect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, entries: Sequence[InboxEntry]) -> set[str]:
        claimed: set[str] = set()
        t = orm.inbox
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
            claim = self.conn.execute(pg_bulk.CLAIM, {"rows": pg_bulk.as_json(rows)})
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
        t = orm.inbox
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
        t = orm.inbox
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


class SqlAgents:
    """Per-agent state: last seen, boot, contiguous seq, gaps, health."""

    def __init__(self, conn: Connection, inbox: SqlInbox) -> None:
        self.conn = conn
        self.inbox = inbox

    def _ensure(self, agents: Mapping[str, str], at: datetime) -> None:
        rows = [
            {
                "agent_id": agent_id,
                "site": site,
                "first_seen": at,
                "last_seen": at,
                "boot": 0,
                "acked_seq": 0,
                "max_seq": 0,
            }
            for agent_id, site in sorted(agents.items())
        ]
        self.conn.execute(insert(self.conn, orm.agents).values(rows).on_conflict_do_nothing())

    def track(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, int]:
        """Advance every reporting agent's contiguous seq in a handful of statements (not a
        handful per agent): lock the agents' rows in one order, read the committed seqs above
        each one's ack, record gaps, write the new state."""
        if not batch:
            return {}
        a = orm.agents
        by_agent = {r.agent_id: r for r in batch}
        query = select(a.c.agent_id, a.c.acked_seq, a.c.max_seq, a.c.boot).where(
            a.c.agent_id.in_(bindparam("agents", expanding=True))
        )
        if self.conn.dialect.name == "postgresql":
            query = query.order_by(a.c.agent_id).with_for_update()
        names = sorted(by_agent)
        rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        if len(rows) < len(names):  # first report of an agent: create its row, then lock it
            self._ensure({r.agent_id: r.site for r in batch if r.agent_id not in rows}, at)
            rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        # this batch's own seqs usually carry each ack forward; only what lies beyond them (other
        # workers' commits, gaps) is read back from the inbox
        moving = {
            agent_id: sequences.contiguous_end(rows[agent_id].acked_seq, r.seqs)
            for agent_id, r in by_agent.items()
            if r.seqs
        }
        # an agent whose ack reaches the highest seq ever committed for it (read under its row
        # lock) has nothing above it and no gap: the usual case, answered without a query
        settled = {
            agent_id
            for agent_id, end in moving.items()
            if end >= max(rows[agent_id].max_seq, *by_agent[agent_id].seqs)
            and rows[agent_id].acked_seq >= rows[agent_id].max_seq
        }
        committed = self.inbox.seqs_above(
            {a: end for a, end in moving.items() if a not in settled}, SEQ_WINDOW
        )
        acks: dict[str, int] = {}
        updates = []
        gaps: dict[str, list[tuple[int, int]]] = {}
        for agent_id, report in sorted(by_agent.items()):
            if report.seqs:
                gaps[agent_id] = []
                moving[agent_id], gaps[agent_id] = sequences.advance(
                    moving[agent_id], committed.get(agent_id, [])
                )
        lost = self._lost({agent_id for agent_id, ranges in gaps.items() if ranges})
        for agent_id, ranges in lost.items():
            moving[agent_id], gaps[agent_id] = self._step_over(
                agent_id, moving[agent_id], gaps[agent_id], ranges
            )
        for agent_id, report in sorted(by_agent.items()):
            row = rows[agent_id]
            acked, max_seq = row.acked_seq, row.max_seq
            if report.seqs:
                acked = moving[agent_id]
                max_seq = max(max_seq, *report.seqs)
            acks[agent_id] = int(acked)
            updates.append(
                {
                    "b_agent": agent_id,
                    "b_site": report.site,
                    "b_boot": max(row.boot, report.boot or 0),
                    "b_acked": acked,
                    "b_max": max_seq,
                }
            )
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == bindparam("b_agent"))
            .values(
                last_seen=at,
                site=bindparam("b_site"),
                boot=bindparam("b_boot"),
                acked_seq=bindparam("b_acked"),
                max_seq=bindparam("b_max"),
            ),
            updates,
        )
        unsettled = {a: ranges for a, ranges in gaps.items() if a not in settled}
        if unsettled:
            self._record_gaps(unsettled, at)
        return acks

    def _lost(self, agents: set[str]) -> dict[str, list[tuple[int, int]]]:
        """The ranges of seqs each agent said it no longer has (only agents with gaps)."""
        if not agents:
            return {}
        g = orm.seq_gaps
        rows = self.conn.execute(
            select(g.c.agent_id, g.c.first_seq, g.c.last_seq)
            .where(g.c.agent_id.in_(sorted(agents)), g.c.unrecoverable_at.is_not(None))
            .order_by(g.c.agent_id, g.c.first_seq)
        )
        out: dict[str, list[tuple[int, int]]] = {}
        for row in rows:
            out.setdefault(row.agent_id, []).append((row.first_seq, row.last_seq))
        return out

    def _step_over(
        self,
        agent_id: str,
        acked: int,
        gaps: list[tuple[int, int]],
        lost: list[tuple[int, int]],
    ) -> tuple[int, list[tuple[int, int]]]:
        """Carry the ack over ranges that will never arrive, and over what was committed after
        them; the gaps left are the ones still worth waiting for."""
        for _ in range(100):  # one pass per lost range the ack meets
            reached = next((last for first, last in lost if first <= acked + 1 <= last), None)
            if reached is None:
                break
            committed = self.inbox.seqs_above({agent_id: reached}, SEQ_WINDOW)
            acked, gaps = sequences.advance(reached, committed.get(agent_id, []))
        remaining = [
            (f, last) for f, last in gaps if not any(lf <= f and last <= ll for lf, ll in lost)
        ]
        return acked, remaining

    def lost_below(self, agent_id: str, below: int, at: datetime) -> None:
        """The agent keeps nothing below ``below``: what is missing there is unrecoverable (a
        gap that straddles it is split, and its upper part still awaited)."""
        g = orm.seq_gaps
        rows = self.conn.execute(
            select(g.c.id, g.c.first_seq, g.c.last_seq, g.c.detected_at).where(
                g.c.agent_id == agent_id,
                g.c.closed_at.is_(None),
                g.c.unrecoverable_at.is_(None),
                g.c.first_seq < below,
            )
        ).all()
        for row in rows:
            self.conn.execute(
                update(g)
                .where(g.c.id == row.id)
                .values(unrecoverable_at=at, last_seq=min(row.last_seq, below - 1))
            )
            if row.last_seq >= below:
                self.conn.execute(
                    g.insert().values(
                        agent_id=agent_id,
                        first_seq=below,
                        last_seq=row.last_seq,
                        detected_at=row.detected_at,
                    )
                )

    def due_resyncs(
        self, opened_before: datetime, asked_before: datetime, at: datetime
    ) -> list[tuple[str, str, int, list[tuple[int, int]]]]:
        """Claim the gaps open since ``opened_before`` and not asked about since
        ``asked_before``: (site, agent, first missing seq to ask for, the gaps asked about for
        the first time)."""
        g, a = orm.seq_gaps, orm.agents
        claimed = self.conn.execute(
            update(g)
            .where(
                g.c.closed_at.is_(None),
                g.c.unrecoverable_at.is_(None),
                g.c.detected_at < opened_before,
                or_(g.c.resync_requested_at.is_(None), g.c.resync_requested_at < asked_before),
            )
            .values(resync_requested_at=at, resync_count=g.c.resync_count + 1)
            .returning(g.c.agent_id, g.c.first_seq, g.c.last_seq, g.c.resync_count)
        ).all()
        if not claimed:
            return []
        sites = dict(
            self.conn.execute(
                select(a.c.agent_id, a.c.site).where(
                    a.c.agent_id.in_(sorted({r.agent_id for r in claimed}))
                )
            ).all()
        )
        first: dict[str, int] = {}
        fresh: dict[str, list[tuple[int, int]]] = {}
        for row in claimed:
            first[row.agent_id] = min(row.first_seq, first.get(row.agent_id, row.first_seq))
            if row.resync_count == 1:
                fresh.setdefault(row.agent_id, []).append((row.first_seq, row.last_seq))
        return [
            (sites[agent], agent, seq, sorted(fresh.get(agent, [])))
            for agent, seq in sorted(first.items())
        ]

    def _gaps_filled(self, filled: list[tuple[str, int, int]], at: datetime) -> None:
        """A gap the agent filled resolves its ``sequence_gap`` exception: nothing is lost."""
        x = orm.floor_exceptions
        for agent_id, first, last in filled:
            self.conn.execute(
                update(x)
                .where(
                    x.c.kind == "sequence_gap",
                    x.c.status == "open",
                    x.c.agent_id == agent_id,
                    x.c.code == f"{first}-{last}",
                )
                .values(
                    status="resolved",
                    resolution="accept",
                    resolved_by="system:resync",
                    resolved_at=at,
                    note="the agent sent the missing events again",
                )
            )

    def _record_gaps(self, gaps: Mapping[str, list[tuple[int, int]]], at: datetime) -> None:
        g = orm.seq_gaps
        open_rows = self.conn.execute(
            select(g.c.id, g.c.agent_id, g.c.first_seq, g.c.last_seq).where(
                g.c.agent_id.in_(sorted(gaps)),
                g.c.closed_at.is_(None),
                g.c.unrecoverable_at.is_(None),  # those stay, for the record
            )
        ).all()
        current = {(agent_id, f, last) for agent_id, ranges in gaps.items() for f, last in ranges}
        known = {(r.agent_id, r.first_seq, r.last_seq) for r in open_rows}
        closed = [r.id for r in open_rows if (r.agent_id, r.first_seq, r.last_seq) not in current]
        if closed:
            self.conn.execute(update(g).where(g.c.id.in_(closed)).values(closed_at=at))
            self._gaps_filled(
                [(r.agent_id, r.first_seq, r.last_seq) for r in open_rows if r.id in closed], at
            )
        new = [
            {"agent_id": agent_id, "first_seq": f, "last_seq": last, "detected_at": at}
            for agent_id, f, last in sorted(current - known)
        ]
        if new:
            self.conn.execute(g.insert(), new)

    def heartbeat(self, agent_id: str, site: str, health: dict[str, Any], at: datetime) -> None:
        a = orm.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(health=json.dumps(health, default=str), heartbeat_at=at, last_seen=at)
        )

    def status(self, agent_id: str, site: str, state: str, at: datetime) -> None:
        a = orm.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(state=state, state_at=at, last_seen=func.coalesce(a.c.last_seen, at))
        )


class SqlRejections:
    """Rejected events with their raw payloads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, rejections: Sequence[Rejection]) -> None:
        """Store rejections, each field cut to fit its column: whatever a payload said, the
        record of it must be storable."""
        if rejections:
            self.conn.execute(
                orm.rejected_events.insert(),
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
        t = orm.rejected_events
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
