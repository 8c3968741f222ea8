"""The ingest worker: MQTT events in, one transaction per batch, acks out after commit.

The receiver (entrypoints/receiver.py, a thread by default) puts what arrives into a bounded
buffer; the batch threads take up to ``ingest_batch_size`` messages at a time, decode them and
apply them (service_layer.ingest.ingest), then publish the acks. Nothing is acknowledged before
it commits, and an edge agent re-sends whatever is not acknowledged, so a crash loses nothing.

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

import contextlib
import hashlib
import logging
import multiprocessing as mp
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from warehouse import contracts
from warehouse.adapters import pos_queries, stock_feed
from warehouse.adapters.mqtt import BrokerAddress
from warehouse.bootstrap import Service
from warehouse.entrypoints import metrics
from warehouse.entrypoints.buffer import IngestBuffer
from warehouse.entrypoints.readiness import database_ready
from warehouse.entrypoints.receiver import Receiver, ReceiverSpec, run_process
from warehouse.pricing import TenderInput
from warehouse.service_layer import fulfilment
from warehouse.service_layer.agents import request_resyncs
from warehouse.service_layer.commands import (
    AgentStatus,
    FloorEvent,
    IngestResult,
    Item,
    MovementRequest,
    ObservationRequest,
    SaleLineRequest,
    SaleRequest,
    ScanRequest,
    UndecodableEvent,
)
from warehouse.service_layer.ingest import ingest

log = logging.getLogger(__name__)


class Fatal(Exception):
    """A condition the worker cannot carry on from; the message says what to do."""


def body_hash(payload: bytes) -> str:
    """What tells a re-send (same bytes) from a conflicting body under the same event id."""
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def translate(topic: str, payload: bytes, max_bytes: int) -> FloorEvent | UndecodableEvent:
    """Decode an ``events`` payload into a use-case input; a refusal becomes an UndecodableEvent
    that keeps whatever ids the envelope, or else the topic, still says."""
    digest = body_hash(payload)
    try:
        event = contracts.decode_event(payload, max_bytes=max_bytes)
    except contracts.ContractError as exc:
        parsed = contracts.parse_topic(topic)
        return UndecodableEvent(
            topic,
            payload,
            exc.reason,
            exc.detail,
            str(exc.event_id) if exc.event_id else None,
            exc.agent_id or (parsed.agent_id if parsed else None),
            exc.site or (parsed.site if parsed else None),
            exc.seq,
            digest,
        )
    parsed = contracts.parse_topic(topic)
    if parsed is None or (parsed.site, parsed.agent_id) != (event.site, event.agent_id):
        shown = topic if len(topic) <= 120 else topic[:117] + "..."
        return UndecodableEvent(
            topic,
            payload,
            "topic_mismatch",
            f"envelope says site {event.site!r} agent {event.agent_id!r}; topic is {shown!r}",
            str(event.event_id),
            event.agent_id,
            event.site,
            event.seq,
            digest,
        )
    movement = heartbeat = observation = scan = sale = None
    if isinstance(event, contracts.MovementEvent):
        d = event.data
        movement = MovementRequest(
            kind=d.kind,
            qty=d.qty,
            code=d.code,
            sku=d.sku,
            gtin=d.gtin,
            lot=d.lot,
            serial=d.serial,
            expiry=d.expiry,
            epc=d.epc,
            from_location=d.from_location,
            to_location=d.to_location,
            order_ref=d.order_ref,
        )
    elif isinstance(event, contracts.ObservationEvent):
        o = event.data
        observation = ObservationRequest(
            zone=o.zone,
            location=o.location,
            arrivals=tuple(t.epc for t in o.arrivals),
            departures=tuple(t.epc for t in o.departures),
            snapshot=tuple(t.epc for t in o.snapshot) if o.snapshot is not None else None,
        )
    elif isinstance(event, contracts.HeartbeatEvent):
        heartbeat = event.data.model_dump(mode="json")
    elif isinstance(event, contracts.ScanEvent):
        s = event.data
        scan = ScanRequest(s.code, s.gtin, s.lot, s.serial, s.epc, s.location, s.order_ref)
    elif isinstance(event, contracts.SaleEvent):
        sale = sale_request(event.data, event.occurred_at)
    return FloorEvent(
        event_id=str(event.event_id),
        agent_id=event.agent_id,
        site=event.site,
        seq=event.seq,
        boot=event.boot,
        occurred_at=event.occurred_at,
        type=event.type,
        device=event.device,
        station=event.station,
        movement=movement,
        heartbeat=heartbeat,
        observation=observation,
        scan=scan,
        sale=sale,
        payload=payload,
        payload_hash=digest,
    )


def sale_request(d: contracts.SaleData, occurred_at: datetime) -> SaleRequest:
    """A register's basket as the sale use case takes it."""
    return SaleRequest(
        sale_id=d.sale_id,
        register=d.register_code,
        lines=[
            SaleLineRequest(
                qty=x.qty,
                sku=x.sku,
                code=x.code,
                unit_price_override_minor=x.unit_price_override_minor,
                embedded_price_minor=x.embedded_price_minor,
                discount_percent=x.discount_percent,
                discount_amount_minor=x.discount_amount_minor,
                reported_unit_price_minor=x.unit_price_minor,
                reported_discount_minor=x.discount_minor,
            )
            for x in d.lines
        ],
        tenders=[TenderInput(t.kind, t.amount_minor, t.reference) for t in d.tenders],
        cashier=d.cashier or "register",
        basket_discount_percent=d.basket_discount_percent,
        basket_discount_amount_minor=d.basket_discount_amount_minor,
        occurred_at=occurred_at,
        receipt_no=d.receipt_no,
        reported_total_minor=d.total_minor,
        change_minor=d.change_minor,
        rounding_minor=d.rounding_minor,
        currency=d.currency,
    )


def stored_event(payload: bytes) -> FloorEvent | None:
    """An event kept in the inbox, decoded again (to re-apply it once what it lacked exists,
    e.g. a code linked to a product from the exceptions queue); None if it never decoded."""
    try:
        event = contracts.decode_event(payload, max_bytes=len(payload) + 1)
    except contracts.ContractError:
        return None
    topic = contracts.topic(event.site, event.agent_id, "events")
    item = translate(topic, payload, len(payload) + 1)
    return item if isinstance(item, FloorEvent) else None


def translate_status(topic: str, payload: bytes) -> AgentStatus | None:
    """An agent's retained status, or None (logged) if it is not one the contract knows."""
    parsed = contracts.parse_topic(topic)
    if parsed is None:
        log.info("ignored status on a topic outside the contract: %.120s", topic)
        return None
    try:
        status = contracts.decode(contracts.Status, payload)
    except contracts.ContractError as exc:
        log.info("ignored status on %s: %s", topic, exc)
        return None
    if parsed.agent_id != status.agent_id:
        log.info("ignored status on %s: it names agent %r", topic, status.agent_id)
        return None
    return AgentStatus(status.agent_id, parsed.site, status.state)


class IngestWorker:
    """Consumes events from the broker and applies them exactly once."""

    def __init__(
        self,
        service: Service,
        *,
        client_id: str | None = None,
        reconnect_delay: tuple[float, float] = (1, 30),
    ) -> None:
        self.service = service
        metrics.watch(service.engine)
        settings = service.settings
        site = settings.mqtt_site
        self.spec = ReceiverSpec(
            address=BrokerAddress.parse(settings.mqtt_url),
            client_id=(
                client_id
                or settings.mqtt_client_id
                or f"warehouse-ingest-{socket.gethostname()}-{os.getpid()}"
            ),
            protocol=settings.mqtt_protocol,
            ca_file=settings.mqtt_ca_file,
            cert_file=settings.mqtt_cert_file,
            key_file=settings.mqtt_key_file,
            topics=(
                self._subscription(f"warehouse/v1/{site}/+/events"),
                self._subscription(f"warehouse/v1/{site}/+/status"),
            ),
            log_level=settings.log_level,
            log_format=settings.log_format,
            reconnect_delay=reconnect_delay,
            buffer_messages=settings.ingest_buffer_messages,
            buffer_bytes=int(settings.ingest_buffer_mb * 1024 * 1024),
        )
        self.buffer = IngestBuffer(self.spec.buffer_messages, self.spec.buffer_bytes)
        self.connected = threading.Event()  # set once subscribed: events are being received
        self.totals = IngestResult()
        self.internal_errors = 0  # exceptions a batch thread caught and carried on from
        self.fatal: str | None = None  # why the worker stopped on its own
        self.waiting_for_database = threading.Event()
        self._totals_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._receiver: Receiver | None = None  # thread mode
        self._conn: Connection | None = None  # process mode: our end of the pipe
        self._process: BaseProcess | None = None
        self._next_hold_check = 0.0  # monotonic time of the next look for expired holds
        self._next_prune = 0.0
        self._next_books = 0.0
        self._books: dict[str, str] = {}  # site -> price book version published

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """For /readyz: the database ready and the broker subscribed."""
        ready, details = database_ready(self.service)
        connected = self.connected.is_set()
        details["broker"] = "connected" if connected else "not connected"
        if self.waiting_for_database.is_set():
            details["ingest"] = "waiting for the database"
        return ready and connected and self.fatal is None, details

    def _subscription(self, topic: str) -> str:
        group = self.service.settings.mqtt_share_group
        if group and self.service.settings.mqtt_protocol == "5":
            return f"$share/{group}/{topic}"
        return topic

    # --- the receiver ----------------------------------------------------------------------

    def _state(self, state: str, detail: str) -> None:
        if state == "up":
            self.connected.set()
        elif state == "down":
            self.connected.clear()
        elif state == "refused":
            self._fail(f"the MQTT broker refused the ingest worker: {detail}")

    def _start_receiver(self) -> None:
        if self.service.settings.ingest_receiver == "thread":
            self._receiver = Receiver(self.spec, self.buffer, self._state)
            self._receiver.start()
            return
        if self._conn is not None:  # a receiver that died: reap it and drop its pipe
            self._conn.close()
        if self._process is not None:
            self._process.join(1)
        ours, theirs = mp.Pipe(duplex=True)
        self._conn = ours
        process = mp.get_context("spawn").Process(
            target=run_process, args=(self.spec, theirs), name="ingest-receiver", daemon=True
        )
        process.start()
        theirs.close()  # the receiver holds the only copy: it sees EOF when we are gone
        self._process = process

    def _read_pipe(self) -> None:
        """Process mode: move the receiver's chunks into our buffer (waiting while it is full,
        which fills the pipe and makes the receiver wait in turn); replace a receiver that dies."""
        while not self._stop.is_set():
            assert self._conn is not None
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self.connected.clear()
                if self._stop.is_set():
                    return
                log.error("the MQTT receiver ended unexpectedly; starting a new one")
                if self._stop.wait(1.0):
                    return
                self._start_receiver()
                continue
            if message[0] == "events":
                self.buffer.put_many(message[1])
            elif message[0] == "state":
                self._state(message[1], "")
            elif message[0] == "refused":
                self._state("refused", message[1])

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publish an ack (QoS 0) or a command (QoS 1) through the receiver, not retained."""
        if self._receiver is not None:
            self._receiver.publish(topic, payload, qos)
            return
        assert self._conn is not None
        with self._send_lock:
            self._conn.send(("publish", topic, payload, qos))

    def _stop_receiver(self) -> None:
        self.buffer.close()
        if self._receiver is not None:
            self._receiver.stop()
        if self._conn is not None:
            with contextlib.suppress(OSError), self._send_lock:
                self._conn.send(("stop",))
            if self._process is not None:
                self._process.join(10)
            self._conn.close()

    # --- running ---------------------------------------------------------------------------

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
        self._start_receiver()
        if self._conn is not None:
            threading.Thread(target=self._read_pipe, name="ingest-pipe", daemon=True).start()
        threading.Thread(target=self._gaps, args=(stop,), name="ingest-gaps", daemon=True).start()
        threads = [
            threading.Thread(target=self._batches, args=(stop,), name=f"ingest-batch-{n}")
            for n in range(self.service.settings.ingest_threads)
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
            self._stop_receiver()
        return 1 if self.fatal else 0

    def _gaps(self, stop: threading.Event) -> None:
        """Ask agents for what stays missing: a gap open ``gap_resync_after_s`` gets a resync
        command from its first seq, repeated every ``gap_resync_every_s`` until it closes. The
        same loop releases expired reservations."""
        settings = self.service.settings
        interval = max(0.2, min(5.0, settings.gap_resync_after_s / 4, settings.reservation_check_s))
        while not stop.wait(interval):
            self._release_holds()
            self._prune_feed()
            self._publish_price_books()
            if not self.connected.is_set():
                continue
            try:
                requests = request_resyncs(
                    self.service.uow(),
                    datetime.now(UTC),
                    after_s=settings.gap_resync_after_s,
                    every_s=settings.gap_resync_every_s,
                )
            except Exception as exc:  # the top of a loop: logged, and the next round retries
                if self.service.classify(exc) != "unavailable":
                    log.exception("gap check failed")
                else:
                    log.debug("gap check skipped: %s", _first_line(exc))
                continue
            for request in requests:
                self.command(
                    request.site,
                    request.agent_id,
                    contracts.ResyncCommand(from_seq=request.from_seq),
                )
                log.info(
                    "asked agent_id=%s to re-send from seq %d (a gap stayed open)",
                    request.agent_id,
                    request.from_seq,
                )

    def _release_holds(self) -> None:
        """Release the reservations of sales orders past their hold, every
        ``reservation_check_s`` (nobody has to call the API for it)."""
        now = time.monotonic()
        if now < self._next_hold_check:
            return
        self._next_hold_check = now + self.service.settings.reservation_check_s
        try:
            released = fulfilment.release_expired(self.service.uow(), datetime.now(UTC))
        except Exception as exc:  # the top of a loop: logged, and the next round retries
            if self.service.classify(exc) != "unavailable":
                log.exception("releasing expired reservations failed")
            return
        for ref in released:
            log.info("sales order %s: its reservation expired and was released", ref)

    def _prune_feed(self) -> None:
        """Number the stock change feed and drop what is older than its retention, once a
        minute (numbered first: a change is pruned only once a client could have had it)."""
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + 60
        cutoff = datetime.now(UTC) - timedelta(seconds=self.service.settings.stock_feed_retention_s)
        try:
            with self.service.engine.begin() as conn:
                stock_feed.sequence(conn)
            with self.service.engine.begin() as conn:
                pruned = stock_feed.prune(conn, cutoff)
        except Exception as exc:  # the top of a loop: logged, and the next round retries
            if self.service.classify(exc) != "unavailable":
                log.exception("pruning the stock change feed failed")
            return
        if pruned:
            log.info("stock change feed: %d changes past their retention pruned", pruned)

    def _publish_price_books(self) -> None:
        """Every ``price_book_check_s``: a site whose price book changed (a new list, rate or
        promotion, or a new day) is sent to every agent registered there, so its registers sell
        at the new prices even when they cannot reach the API."""
        now = time.monotonic()
        if now < self._next_books or not self.connected.is_set():
            return
        self._next_books = now + self.service.settings.price_book_check_s
        today = datetime.now(UTC).date()
        try:
            with self.service.engine.connect() as conn:
                targets = pos_queries.price_book_targets(conn)
                books = {site: pos_queries.price_book(conn, site, today) for site in targets}
        except Exception as exc:  # the top of a loop: logged, and the next round retries
            if self.service.classify(exc) != "unavailable":
                log.exception("reading the price books failed")
            return
        for site, source in books.items():
            if source is None or self._books.get(site) == source.book.version:
                continue
            body = contracts.PriceBookCommand(
                site=site, version=source.book.version, book=source.book.to_dict()
            )
            for agent_id in targets[site]:
                self.command(site, agent_id, body)
            self._books[site] = source.book.version
            log.info(
                "price book %s of site %s sent to %d agents",
                source.book.version,
                site,
                len(targets[site]),
            )

    def command(self, site: str, agent_id: str, body: Any) -> None:
        """Publish a command to one agent (QoS 1, not retained)."""
        command = contracts.Command(command_id=uuid.uuid4(), issued_at=datetime.now(UTC), body=body)
        try:
            self.publish(
                contracts.topic(site, agent_id, "commands"), contracts.encode(command), qos=1
            )
        except OSError:
            log.warning("no receiver to publish a command to %s", agent_id)

    def _fail(self, reason: str) -> None:
        if self.fatal is None:
            self.fatal = reason
            log.error("ingest worker stopping: %s", reason)
        self._stop.set()
        self.buffer.close()

    def _batches(self, stop: threading.Event) -> None:
        """Take what is there, up to a batch, and apply it; while it commits, the receiver fills
        the buffer with the next one, so under load batches grow by themselves. A batch goes
        as soon as the buffer is empty, unless ``ingest_batch_ms`` lets it wait that long for
        more (fewer transactions at moderate rates, at the price of latency)."""
        settings = self.service.settings
        size, window = settings.ingest_batch_size, settings.ingest_batch_ms / 1000
        while not stop.is_set():
            messages = self.buffer.take(size, timeout=0.2)
            if not messages:
                continue
            deadline = time.monotonic() + window
            while len(messages) < size and (left := deadline - time.monotonic()) > 0:
                messages += self.buffer.take(size - len(messages), timeout=left)
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

    def _items(self, messages: list[tuple[str, bytes]]) -> list[Item]:
        max_bytes = self.service.settings.max_payload_bytes
        items: list[Item] = []
        for topic, payload in messages:
            try:
                if topic.endswith("/status"):
                    status = translate_status(topic, payload)
                    if status is not None:
                        items.append(status)
                else:
                    items.append(translate(topic, payload, max_bytes))
            except Exception as exc:  # noqa: BLE001 - a bug decoding one message rejects it alone
                items.append(_internal_error(topic, payload, exc))
        return items

    def _process_batch(self, messages: list[tuple[str, bytes]], stop: threading.Event) -> None:
        items = self._items(messages)
        if not items:
            return
        service = self.service
        delay = 0.1
        started = time.perf_counter()
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
                break
            except Exception as exc:  # ingest raises only what classify calls unavailable/fatal
                if service.classify(exc) == "fatal":
                    raise Fatal(_fatal_reason(exc)) from exc
                if stop.is_set():
                    log.warning(
                        "stopping with a batch of %d uncommitted; edges re-send it", len(items)
                    )
                    return
                self.waiting_for_database.set()
                log.warning(
                    "the database is unavailable (%s); batch of %d waits %.1fs",
                    _first_line(exc),
                    len(items),
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self.waiting_for_database.clear()
        metrics.count_batch(
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


_COUNTS = ("applied", "duplicates", "rejected", "recorded", "conflicts", "poison")


def _internal_error(topic: str, payload: bytes, exc: Exception) -> UndecodableEvent:
    error_id = uuid.uuid4().hex[:12]
    log.exception("internal error %s decoding a message on %.120s", error_id, topic)
    parsed = contracts.parse_topic(topic)
    return UndecodableEvent(
        topic,
        payload,
        "internal_error",
        f"{type(exc).__name__}: {str(exc)[:300]} (error id {error_id})",
        agent_id=parsed.agent_id if parsed else None,
        site=parsed.site if parsed else None,
        payload_hash=body_hash(payload),
    )


def _first_line(exc: BaseException) -> str:
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__


def _fatal_reason(exc: BaseException) -> str:
    return (
        f"the database schema is missing or out of date ({_first_line(exc)}); "
        "run `warehouse db upgrade`"
    )
