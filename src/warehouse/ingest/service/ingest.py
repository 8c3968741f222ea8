"""Ingesting floor events exactly once: dedupe, resolve, post, track seqs, in one transaction;
the caller publishes the returned acks after the commit.

The worker calls :func:`ingest`, which applies batches with ``apply.ingest_batch`` (one
transaction each) and isolates whatever makes a batch fail. A batch that fails for any reason but
an unreachable database is split in halves until the item that fails is alone; that item is then
recorded as rejected with the reason and acknowledged, and everything before and after it flows
on. Serialization failures and deadlocks are retried a few times first. An unreachable database
(or a missing schema) is the caller's to wait out: nothing is rejected for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from warehouse import logs
from warehouse.core.errors import DomainError
from warehouse.core.unit_of_work import FailureClassifier
from warehouse.ingest.service.apply import ingest_batch
from warehouse.ingest.service.batch import Poisoned, reason_of
from warehouse.ingest.service.commands import AgentStatus, IngestResult, Item, UndecodableEvent
from warehouse.ingest.service.ports import IngestUnitOfWork
from warehouse.stock.service.policies import DEFAULT_POLICY, StockPolicy
from warehouse.stock.service.resolve import Catalog

log = logging.getLogger(__name__)


#: How often a batch that hit a serialization failure or deadlock is tried again before it is
#: split like any other failing batch.
RETRIES = 3


def ingest(
    new_uow: Callable[[], IngestUnitOfWork],
    catalog: Catalog,
    items: Sequence[Item],
    now: datetime,
    classify: FailureClassifier,
    *,
    policy: StockPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestResult:
    """Apply ``items``, isolating any that cannot be applied; raise only what ``classify``
    calls ``unavailable`` or ``fatal`` (the caller waits, or stops)."""

    def run(chunk: Sequence[Item | Poisoned]) -> IngestResult:
        attempt = 0
        while True:
            try:
                return ingest_batch(new_uow(), catalog, chunk, now, policy=policy)
            except Exception as exc:  # sorted by classify; what it cannot name is isolated
                kind = classify(exc)
                if kind in ("unavailable", "fatal"):
                    raise
                if kind == "retry" and attempt < RETRIES:
                    attempt += 1
                    sleep(0.02 * 2**attempt)
                    continue
                if len(chunk) > 1:
                    middle = len(chunk) // 2
                    result = run(chunk[:middle])
                    result.add(run(chunk[middle:]))
                    return result
                return poison(chunk[0], exc)

    def poison(item: Item | Poisoned, exc: Exception) -> IngestResult:
        if isinstance(item, AgentStatus):
            log.error("status of agent %s could not be recorded: %s", item.agent_id, exc)
            return IngestResult()
        if isinstance(item, Poisoned):  # recording it failed: keep what can be kept
            log.error("could not record rejected event %s: %s", item.item.event_id, exc)
            return _loose(new_uow, catalog, item, now, classify)
        reason, detail = _failure(exc)
        if isinstance(item, UndecodableEvent):  # its own reason says more than the database's
            reason, detail = item.reason, f"{item.detail} (stored after: {detail})"
        log.warning(
            "event_id=%s agent_id=%s seq=%s failed its batch and is rejected: %s %s",
            item.event_id,
            item.agent_id,
            item.seq,
            reason,
            detail,
            extra=logs.ids(item.event_id, item.agent_id, item.seq),
        )
        result = run([Poisoned(item, reason, detail)])
        result.poison += 1
        return result

    return run(list(items))


def _loose(
    new_uow: Callable[[], IngestUnitOfWork],
    catalog: Catalog,
    poisoned: Poisoned,
    now: datetime,
    classify: FailureClassifier,
) -> IngestResult:
    """The last resort: the payload and reason alone, with no ids (nothing is acked)."""
    item = poisoned.item
    bare = UndecodableEvent(
        getattr(item, "topic", "") or "", item.payload or b"", poisoned.reason, poisoned.detail
    )
    try:
        return ingest_batch(new_uow(), catalog, [bare], now)
    except Exception as exc:
        if classify(exc) in ("unavailable", "fatal"):
            raise
        log.exception("a rejected event could not be stored at all; its edge will re-send it")
        return IngestResult()


def _failure(exc: Exception) -> tuple[str, str]:
    """The reason and detail recorded for an item that failed on its own."""
    if isinstance(exc, DomainError):
        return reason_of(exc), exc.message
    origin = getattr(exc, "orig", None)  # a database driver's own error, wrapped by the adapter
    if origin is not None:
        text = str(origin).strip().splitlines()
        return "database_error", (text[0] if text else type(origin).__name__)[:500]
    error_id = uuid.uuid4().hex[:12]
    log.error("internal error %s", error_id, exc_info=exc)
    return "internal_error", f"{type(exc).__name__}: {str(exc)[:300]} (error id {error_id})"
