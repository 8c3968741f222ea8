"""The read side of the ingest: rejected events, agents, and the agents that get price books."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Connection,
    select,
)

from warehouse.access.adapters import tables as access_tables
from warehouse.core.paging import Page, decode_cursor, encode_cursor
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.pos.adapters import tables as pos_tables


def rejected_events(
    conn: Connection, *, reason: str | None, agent_id: str | None, limit: int, cursor: str | None
) -> Page:
    """Rejected events, newest first, with their payload as text where it is text."""
    t = ingest_tables.rejected_events
    query = select(t).order_by(t.c.id.desc()).limit(limit + 1)
    if reason:
        query = query.where(t.c.reason == reason)
    if agent_id:
        query = query.where(t.c.agent_id == agent_id)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        query = query.where(t.c.id < before)
    rows = conn.execute(query).all()
    items = []
    for r in rows[:limit]:
        item = {
            k: r._mapping[k]
            for k in (
                "id",
                "received_at",
                "reason",
                "detail",
                "topic",
                "event_id",
                "agent_id",
                "site",
                "seq",
                "payload_size",
            )
        }
        item["payload"] = r.payload.decode("utf-8", errors="replace")
        item["payload_truncated"] = len(r.payload) < r.payload_size
        original = r.original_payload
        item["original_payload"] = (
            original.decode("utf-8", errors="replace") if original is not None else None
        )
        items.append(item)
    return Page(items, encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None)


def agents(
    conn: Connection, sites: frozenset[str] | None = None, *, registered_only: bool = True
) -> list[dict[str, Any]]:
    """Every registered agent (``warehouse devices register``, not revoked) that has been seen,
    at ``sites`` (None: all), with its last seen time, seqs, open gaps and last health report;
    ``registered_only=False`` adds every other agent the ingest has tracked."""
    a, g, d = ingest_tables.agents, ingest_tables.seq_gaps, access_tables.devices
    gaps: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(select(g).where(g.c.closed_at.is_(None)).order_by(g.c.first_seq)):
        gaps.setdefault(row.agent_id, []).append(
            {
                "first_seq": row.first_seq,
                "last_seq": row.last_seq,
                "detected_at": row.detected_at,
                "resync_requested_at": row.resync_requested_at,
                "resync_count": row.resync_count,
                "unrecoverable": row.unrecoverable_at is not None,
                "unrecoverable_at": row.unrecoverable_at,
            }
        )
    out = []
    registered = select(a).order_by(a.c.site, a.c.agent_id)
    if registered_only:
        registered = registered.join(
            d, (d.c.agent_id == a.c.agent_id) & (d.c.site == a.c.site)
        ).where(d.c.revoked_at.is_(None))
    if sites is not None:
        registered = registered.where(a.c.site.in_(sorted(sites)))
    for row in conn.execute(registered):
        out.append(
            {
                "agent_id": row.agent_id,
                "site": row.site,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
                "boot": row.boot,
                "acked_seq": row.acked_seq,
                "max_seq": row.max_seq,
                "state": row.state,
                "state_at": row.state_at,
                "gaps": gaps.get(row.agent_id, []),
                "missing": sum(
                    x["last_seq"] - x["first_seq"] + 1 for x in gaps.get(row.agent_id, [])
                ),
                "health": json.loads(row.health) if row.health else None,
                "heartbeat_at": row.heartbeat_at,
            }
        )
    return out


def price_book_targets(conn: Connection) -> dict[str, list[str]]:
    """Sites with registers -> the agents registered there (who get ``price_book`` commands)."""
    r = pos_tables.registers
    sites = [s for (s,) in conn.execute(select(r.c.site).distinct().order_by(r.c.site))]
    if not sites:
        return {}
    out: dict[str, list[str]] = {site: [] for site in sites}
    a = ingest_tables.agents
    for agent_id, site in conn.execute(
        select(a.c.agent_id, a.c.site).where(a.c.site.in_(sites)).order_by(a.c.agent_id)
    ):
        out[site].append(agent_id)
    return out
