"""Edge agents: their contiguous sequence, gaps, boots, heartbeats and status."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, text, update

from warehouse.core import sql
from warehouse.core.sql import insert
from warehouse.exceptions.adapters import tables as exceptions_tables
from warehouse.ingest import domain as sequences
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.ingest.adapters.inbox import SqlInbox
from warehouse.ingest.service.ports import SeqReport

#: How far above the acked seq an agent's committed seqs are read when advancing its ack.
SEQ_WINDOW = 20_000

# On PostgreSQL every batch locks and writes its agents' rows with two statements of constant
# text (an array and one JSON document, as stock/adapters/bulk.py does for the ledger): prepared
# once, where the portable forms compiled an expanding IN list and sent one UPDATE per agent.
_LOCK_PG = text("""
    SELECT agent_id, acked_seq, max_seq, boot FROM agents
    WHERE agent_id = ANY(CAST(:agents AS varchar[]))
    ORDER BY agent_id
    FOR UPDATE
""")
_WRITE_PG = text("""
    UPDATE agents AS a
    SET last_seen = CAST(:at AS timestamptz), site = r.b_site, boot = r.b_boot,
        acked_seq = r.b_acked, max_seq = r.b_max
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(b_agent varchar, b_site varchar,
                                                      b_boot bigint, b_acked bigint,
                                                      b_max bigint)
    WHERE a.agent_id = r.b_agent
""")


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
        self.conn.execute(
            insert(self.conn, ingest_tables.agents).values(rows).on_conflict_do_nothing()
        )

    def track(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, int]:
        """Advance every reporting agent's contiguous seq in a handful of statements (not a
        handful per agent): lock the agents' rows in one order, read the committed seqs above
        each one's ack, record gaps, write the new state."""
        if not batch:
            return {}
        by_agent = {r.agent_id: r for r in batch}
        rows = self._locked(batch, at)
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
        acks = self._write(by_agent, rows, moving, at)
        unsettled = {a: ranges for a, ranges in gaps.items() if a not in settled}
        if unsettled:
            self._record_gaps(unsettled, at)
        return acks

    def _locked(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, Any]:
        """The reporting agents' rows, locked in one order (on PostgreSQL); an agent's first
        report creates its row first."""
        a = ingest_tables.agents
        query: Any = _LOCK_PG
        if self.conn.dialect.name != "postgresql":
            query = select(a.c.agent_id, a.c.acked_seq, a.c.max_seq, a.c.boot).where(
                a.c.agent_id.in_(bindparam("agents", expanding=True))
            )
        names = sorted({r.agent_id for r in batch})
        rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        if len(rows) < len(names):  # first report of an agent: create its row, then lock it
            self._ensure({r.agent_id: r.site for r in batch if r.agent_id not in rows}, at)
            rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        return rows

    def _write(
        self,
        by_agent: Mapping[str, SeqReport],
        rows: Mapping[str, Any],
        moving: Mapping[str, int],
        at: datetime,
    ) -> dict[str, int]:
        """Store each agent's new ack, highest seq, boot and site in one statement; return the
        acks."""
        a = ingest_tables.agents
        acks: dict[str, int] = {}
        updates = []
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
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_WRITE_PG, {"at": at, "rows": sql.as_json(updates)})
            return acks
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
        return acks

    def _lost(self, agents: set[str]) -> dict[str, list[tuple[int, int]]]:
        """The ranges of seqs each agent said it no longer has (only agents with gaps)."""
        if not agents:
            return {}
        g = ingest_tables.seq_gaps
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
        g = ingest_tables.seq_gaps
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
        g, a = ingest_tables.seq_gaps, ingest_tables.agents
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
        x = exceptions_tables.floor_exceptions
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
        g = ingest_tables.seq_gaps
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
        a = ingest_tables.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(health=json.dumps(health, default=str), heartbeat_at=at, last_seen=at)
        )

    def status(self, agent_id: str, site: str, state: str, at: datetime) -> None:
        a = ingest_tables.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(state=state, state_at=at, last_seen=func.coalesce(a.c.last_seen, at))
        )
