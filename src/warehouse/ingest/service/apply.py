"""One batch of floor events applied in one transaction: deduplicated by the inbox, resolved,
matched to orders, counts and sales, posted, its rejections and exceptions stored and its
agents' sequences advanced; the caller publishes the acks after the commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from warehouse.counts.service import counting as counts
from warehouse.exceptions.service import queue
from warehouse.floor.outcome import per_device
from warehouse.ingest.service import observations
from warehouse.ingest.service.batch import Batch, Poisoned
from warehouse.ingest.service.commands import AgentStatus, IngestResult, Item, UndecodableEvent
from warehouse.ingest.service.ports import IngestUnitOfWork, Rejection, SeqReport
from warehouse.ingest.service.rejections import of_sweeps, of_tags
from warehouse.orders.service import dispatch, picking
from warehouse.pos.service import floor_sales
from warehouse.stock.domain.model import Movement
from warehouse.stock.service import posting
from warehouse.stock.service.policies import DEFAULT_POLICY, StockPolicy
from warehouse.stock.service.resolve import Catalog


def ingest_batch(
    uow: IngestUnitOfWork,
    catalog: Catalog,
    items: Sequence[Item | Poisoned],
    now: datetime,
    *,
    policy: StockPolicy = DEFAULT_POLICY,
) -> IngestResult:
    """Apply a batch in one transaction; return counts and the acks to publish."""
    result = IngestResult()
    batch = Batch(now, policy)
    with uow:
        catalog.refresh(uow)
        for item in items:
            if isinstance(item, AgentStatus):
                batch.statuses.append(item)
            elif isinstance(item, Poisoned):
                batch.poisoned(item)
            elif isinstance(item, UndecodableEvent):
                batch.undecodable(item)
            elif item.event_id in batch.first:
                batch.repeated(item.event_id, item)
            elif policy.require_registered_agents and not agent_registered(
                uow, catalog, item.agent_id, item.site
            ):
                batch.unknown_agent(item)
            else:
                batch.decoded(uow, catalog, item)
        claimed = uow.inbox.claim(batch.entries)
        batch.compare_with_inbox(uow, claimed)
        movements = [m for eid, m in batch.movements if eid in claimed]
        rejections = batch.loose + [r for eid, r in batch.rejections if eid in claimed]
        rejections += batch.new_conflicts(uow)
        movements = _post(uow, catalog, batch, claimed, movements, rejections, result)
        observed = [(e, loc) for e, loc in batch.observations if e.event_id in claimed]
        seen = observations.observe_all(uow, catalog, observed, now)
        uow.exceptions.add(of_sweeps(uow, seen.sweeps) + of_tags(uow, seen), now)
        counts.count_sweeps(uow, catalog, [(e, loc.id or 0, loc.code) for e, loc in observed])
        for event in batch.heartbeats:
            if event.event_id in claimed and event.heartbeat is not None:
                uow.agents.heartbeat(event.agent_id, event.site, event.heartbeat, now)
                kept = event.heartbeat.get("oldest_kept_seq")
                if isinstance(kept, int):  # below it the agent can re-send nothing
                    uow.agents.lost_below(event.agent_id, kept, now)
        for status in batch.statuses:
            if not policy.require_registered_agents or agent_registered(
                uow, catalog, status.agent_id, status.site
            ):  # anyone's retained status would otherwise make an "agent"
                uow.agents.status(status.agent_id, status.site, status.state, now)
        result.acks = _track_seqs(uow, batch, claimed, now)
        uow.commit()
    result.applied = len(movements)
    result.rejected = len(rejections) - len(batch.conflicts)
    result.reasons = _by_reason(rejections)
    result.conflicts = batch.conflicts_seen
    result.duplicates = batch.duplicates + len(batch.entries) - len(claimed) - batch.dup_conflicts
    result.recorded = sum(
        1 for e in batch.entries if e.status == "recorded" and e.event_id in claimed
    )
    return result


def _post(
    uow: IngestUnitOfWork,
    catalog: Catalog,
    batch: Batch,
    claimed: set[str],
    movements: list[Movement],
    rejections: list[Rejection],
    result: IngestResult,
) -> list[Movement]:
    """Match the new order scans (dispatch.py), post what stands, record rejections and
    exceptions, and collect the stations' feedback; return the movements posted."""
    now = batch.now
    orders = dispatch.floor_scans(
        uow, catalog, [s for s in batch.scans if s.event.event_id in claimed], now
    )
    if orders.refused:
        movements = [m for m in movements if m.event_id not in orders.refused]
    movements += orders.post
    sold = floor_sales.floor_sales(
        uow, catalog, [e for e in batch.sales if e.event_id in claimed], now
    )
    movements += sold.movements
    posting.post(uow, movements, now, enforce=False)
    uow.orders.reserve(orders.reserved, now)
    scans = [e for e in batch.counted if e.event_id in claimed and e.scan is not None]
    picking.pack_scans(uow, catalog, [e for e in scans if e.scan and e.scan.order_ref], orders)
    counts.count_scans(uow, catalog, [e for e in scans if e.scan and not e.scan.order_ref], orders)
    uow.rejections.add(rejections)
    found = orders.exceptions + sold.exceptions + batch.exceptions(rejections)
    found += queue.of_negative(uow, movements)
    uow.exceptions.add(found, now)
    result.feedback = per_device(orders.feedback + batch.refusal_feedback(rejections))
    return movements


def _by_reason(rejections: Sequence[Rejection]) -> dict[str, int]:
    """How many were rejected for each reason (conflicts are counted apart)."""
    out: dict[str, int] = {}
    for rejection in rejections:
        if rejection.reason != "conflicting_duplicate":
            out[rejection.reason] = out.get(rejection.reason, 0) + 1
    return out


def _track_seqs(
    uow: IngestUnitOfWork, batch: Batch, claimed: set[str], now: datetime
) -> dict[tuple[str, str], int]:
    """Advance each agent's contiguous seq; agents whose events were all duplicates are acked
    again at their current seq, because the edge re-sends only what it has not seen acked."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for entry in batch.entries:
        if entry.event_id in claimed and entry.agent_id and entry.seq is not None:
            seqs[entry.agent_id].append(entry.seq)
    reports = [
        SeqReport(agent_id, site, sorted(seqs[agent_id]), boot)
        for agent_id, (site, boot) in sorted(batch.agents.items())
    ]
    acked = uow.agents.track(reports, now)
    return {(r.site, r.agent_id): acked[r.agent_id] for r in reports}


def agent_registered(uow: IngestUnitOfWork, catalog: Catalog, agent_id: str, site: str) -> bool:
    """Whether ``agent_id`` is registered at ``site`` and not revoked (cached with the catalog:
    device changes raise its version, so a revocation reaches every worker's next batch)."""
    found = catalog.cached(
        "A:" + agent_id,
        lambda: d.site if (d := uow.access.device(agent_id)) and d.revoked_at is None else None,
    )
    return found == site
