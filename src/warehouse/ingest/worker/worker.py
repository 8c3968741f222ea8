"""The ingest worker: MQTT events in, one transaction per batch, acks out after commit.

The receiver (receiver.py, a thread by default; link.py) puts what arrives into a bounded
buffer; the batch threads take up to ``ingest_batch_size`` messages at a time, decode them and
apply them (``ingest.service.ingest.ingest``), then publish the acks. Nothing is acknowledged
before it commits, and an edge agent re-sends whatever is not acknowledged, so a crash loses
nothing. Beside the batches one thread runs the worker's chores (chores.py): expired holds,
the change feed's pruning, price books and sequence gaps.

What can go wrong, and what the worker does:

- an event that cannot be applied (bad data, a value the database refuses, a bug on its path)
  is rejected on its own with its reason and acknowledged; everything else flows on;
- the database is unreachable: the batch waits and is tried again with backoff, as long as it
  takes; the buffer fills and the worker stops reading from the broker (backpressure);
- something no retry will fix (no schema, the broker refuses our credentials): the worker stops
  and ``run`` returns 1 with the reason in ``fatal``, so a supervisor sees a failure;
- any other exception in a batch thread is logged with an id and counted, and the thread goes on.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from warehouse import contracts
from warehouse.core import catalog_watch, metrics
from warehouse.core.failures import first_line
from warehouse.core.readiness import database_ready
from warehouse.exceptions.adapters import metrics as exceptions_metrics
from warehouse.floor.events import FloorEvent
from warehouse.ingest.service.commands import IngestResult, Item
from warehouse.ingest.service.ingest import ingest
from warehouse.ingest.worker import metrics as ingest_metrics
from warehouse.ingest.worker.buffer import IngestBuffer, Message
from warehouse.ingest.worker.chores import run_chores
from warehouse.ingest.worker.deps import IngestService
from warehouse.ingest.worker.feed import PruneFeed
from warehouse.ingest.worker.gaps import AskForGaps
from warehouse.ingest.worker.holds import ReleaseHolds
from warehouse.ingest.worker.link import make_link
from warehouse.ingest.worker.partitions import MakePartitions
from warehouse.ingest.worker.price_books import PublishPriceBooks
from warehouse.ingest.worker.translate import internal_error, translate, translate_status

log = logging.getLogger(__name__)

_COUNTS = ("applied", "duplicates", "rejected", "recorded", "conflicts", "poison")


class Fatal(Exception):
    """A condition the worker cannot carry on from; the message says what to do."""


class IngestWorker:
    """Consumes events from the broker and applies them exactly once."""

    def __init__(
        self,
        service: IngestService,
        *,
        client_id: str | None = None,
        reconnect_delay: tuple[float, float] = (1, 30),
    ) -> None:
        self.service = service
        metrics.watch(service.engine)
        exceptions_metrics.register()
        settings = service.settings
        self.buffer = IngestBuffer(
            settings.ingest_buffer_messages, int(settings.ingest_buffer_mb * 1024 * 1024)
        )
        self.link = make_link(settings, client_id, reconnect_delay, self.buffer, self._state)
        self.connected = threading.Event()  # set once subscribed: events are being received
        self.totals = IngestResult()
        self.internal_errors = 0  # exceptions a batch thread caught and carried on from
        self.fatal: str | None = None  # why the worker stopped on its own
        self.waiting_for_database = threading.Event()
        self._totals_lock = threading.Lock()
        self._stop = threading.Event()
        self.chores = (
            ReleaseHolds(service),
            PruneFeed(service),
            PublishPriceBooks(service, self.command),
            AskForGaps(service, self.command),
            MakePartitions(service),
        )

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """For /readyz: the database ready and the broker subscribed."""
        ready, details = database_ready(self.service)
        connected = self.connected.is_set()
        details["broker"] = "connected" if connected else "not connected"
        if self.waiting_for_database.is_set():
            details["ingest"] = "waiting for the database"
        return ready and connected and self.fatal is None, details

    def _state(self, state: str, detail: str) -> None:
        if state == "up":
            self.connected.set()
        elif state == "down":
            self.connected.clear()
        elif state == "refused":
            self._fail(detail)

    def run(self, stop: threading.Event) -> int:
        """Consume until ``stop`` is set (0) or a fatal condition stops the worker (1, reason in
        ``fatal``); batches in progress are finished first.

        ``ingest_threads`` batch threads (one by default) share the buffer, each with its own
        connection. Several coordinate the way separate workers in the shared-subscription group
        do: row locks in one order, and the inbox's unique event ids. They rarely help: batches
        lock the same projection and agent rows until they commit, so a second thread mostly
        waits, and its out-of-order commits make passing seq gaps (docs/performance.md).
        """
        self._stop = stop
        watch = self._watch_catalog()
        self.link.start(stop)
        settings = self.service.settings
        interval = max(0.2, min(5.0, settings.gap_resync_after_s / 4, settings.reservation_check_s))
        threading.Thread(
            target=run_chores,
            args=(self.chores, interval, stop, self.connected, self.service.classify),
            name="ingest-chores",
            daemon=True,
        ).start()
        threads = [
            threading.Thread(target=self._batches, args=(stop,), name=f"ingest-batch-{n}")
            for n in range(settings.ingest_threads)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            stop.set()
            for thread in threads:
                if thread.is_alive():
                    thread.join()
            self.link.stop()
            if watch is not None:
                watch.stop()
        return 1 if self.fatal else 0

    def _watch_catalog(self) -> catalog_watch.CatalogWatch | None:
        """On PostgreSQL, hear catalog changes as they commit, so that batches do not read the
        catalog version each time (core/catalog_watch.py)."""
        watch = catalog_watch.started_for(self.service.engine)
        self.service.catalog.watch = watch
        return watch

    def _fail(self, reason: str) -> None:
        if self.fatal is None:
            self.fatal = reason
            log.error("ingest worker stopping: %s", reason)
        self._stop.set()
        self.buffer.close()

    def _batches(self, stop: threading.Event) -> None:
        """Take what is there, up to a batch, and apply it; while it commits, the receiver fills
        the buffer with the next one, so under load batches grow by themselves. A batch waits
        up to ``ingest_batch_ms`` (10 ms) for more once the buffer is empty: fewer transactions
        at moderate rates, at the price of that much latency."""
        settings = self.service.settings
        size, window = settings.ingest_batch_size, settings.ingest_batch_ms / 1000
        while not stop.is_set():
            messages = self.buffer.take_batch(size, timeout=0.2, window=window)
            if not messages:
                continue
            try:
                self._process_batch(messages, stop)
            except Fatal as exc:
                self._fail(str(exc))
                return
            except Exception:  # the top of a long-running loop: log, count, carry on
                error_id = uuid.uuid4().hex[:12]
                with self._totals_lock:
                    self.internal_errors += 1
                log.exception(
                    "internal error %s handling a batch of %d; its edges will re-send it",
                    error_id,
                    len(messages),
                )

    def _items(self, messages: list[Message]) -> list[Item]:
        max_bytes = self.service.settings.max_payload_bytes
        items: list[Item] = []
        for message in messages:
            topic, payload = message[0], message[1]
            try:
                if topic.endswith("/status"):
                    status = translate_status(topic, payload)
                    if status is not None:
                        items.append(status)
                else:
                    items.append(translate(topic, payload, max_bytes))
            except Exception as exc:  # noqa: BLE001 - a bug decoding one message rejects it alone
                items.append(internal_error(topic, payload, exc))
        return items

    def _process_batch(self, messages: list[Message], stop: threading.Event) -> None:
        items = self._items(messages)
        if not items:
            self.link.settle(messages)
            return
        started = time.perf_counter()
        result = self._apply(items, stop)
        if result is None:
            return
        self.link.settle(messages)  # committed: JetStream may forget them
        ingest_metrics.count_batch(
            result,
            len(items),
            time.perf_counter() - started,
            [i.occurred_at for i in items if isinstance(i, FloorEvent)],
            datetime.now(UTC),
        )
        self._publish_acks(result)
        self._publish_feedback(result)
        with self._totals_lock:
            self.totals.add(IngestResult(**{k: getattr(result, k) for k in _COUNTS}))
        log.debug(
            "batch: %d applied, %d duplicates, %d rejected, %d recorded",
            result.applied,
            result.duplicates,
            result.rejected,
            result.recorded,
        )

    def _apply(self, items: list[Item], stop: threading.Event) -> IngestResult | None:
        """The batch applied, waiting out an unavailable database as long as it takes; None if
        the worker stops first (nothing was committed: the edges re-send it)."""
        service = self.service
        delay = 0.1
        while True:
            try:
                result = ingest(
                    service.uow,
                    service.catalog,
                    items,
                    datetime.now(UTC),
                    service.classify,
                    policy=service.policy,
                )
            except Exception as exc:  # ingest raises only what classify calls unavailable/fatal
                if service.classify(exc) == "fatal":
                    raise Fatal(
                        f"the database schema is missing or out of date ({first_line(exc)}); "
                        "run `warehouse db upgrade`"
                    ) from exc
                if stop.is_set():
                    log.warning(
                        "stopping with a batch of %d uncommitted; edges re-send it", len(items)
                    )
                    return None
                self.waiting_for_database.set()
                log.warning(
                    "the database is unavailable (%s); batch of %d waits %.1fs",
                    first_line(exc),
                    len(items),
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
            else:
                self.waiting_for_database.clear()
                return result

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publish an ack (QoS 0) or a command (QoS 1) through the receiver, not retained."""
        self.link.publish(topic, payload, qos)

    def command(self, site: str, agent_id: str, body: Any) -> None:
        """Publish a command to one agent (QoS 1, not retained)."""
        command = contracts.Command(command_id=uuid.uuid4(), issued_at=datetime.now(UTC), body=body)
        try:
            self.publish(
                contracts.topic(site, agent_id, "commands"), contracts.encode(command), qos=1
            )
        except OSError:
            log.warning("no receiver to publish a command to %s", agent_id)

    def _publish_feedback(self, result: IngestResult) -> None:
        """What each station is told about its receive, pick and ship scans (after the commit,
        so it never says ok about something that was rolled back)."""
        now = datetime.now(UTC)
        for feedback in result.feedback:
            payload = contracts.encode_feedback(
                feedback.level, feedback.text, feedback.device, feedback.event_id, now
            )
            try:
                # an ok is advisory (the scanner beeped already): QoS 0; warn and error QoS 1
                qos = 0 if feedback.level == "ok" else 1
                topic = contracts.topic(feedback.site, feedback.agent_id, "commands")
                self.publish(topic, payload, qos=qos)
            except OSError:
                log.warning("no receiver to publish feedback to %s", feedback.agent_id)

    def _publish_acks(self, result: IngestResult) -> None:
        now = datetime.now(UTC)
        for (site, agent_id), seq in result.acks.items():
            ack = contracts.Ack(agent_id=agent_id, seq=seq, committed_at=now)
            try:
                # QoS 0: an ack is cumulative (the next one covers a lost one) and the session
                # ends with the connection, so QoS 1 would guarantee nothing more
                self.publish(contracts.topic(site, agent_id, "acks"), contracts.encode(ack), qos=0)
            except OSError:
                log.warning(
                    "no receiver to publish the ack for %s; its edge will re-send", agent_id
                )
