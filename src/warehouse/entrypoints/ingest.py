"""The ingest worker: MQTT events in, one transaction per batch, acks out after commit.

The receiver (entrypoints/receiver.py, a process of its own by default) only hands messages
over; the batch threads decode, batch (at most ``ingest_batch_size`` events or
``ingest_batch_ms`` after the first) and commit, then give the receiver the acks to publish. A
batch that fails on the database is retried with backoff; nothing is acknowledged before it
commits, and an edge agent re-sends whatever is not acknowledged, so a crash loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import socket
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy.exc import DBAPIError

from warehouse import contracts
from warehouse.adapters.mqtt import BrokerAddress
from warehouse.bootstrap import Service
from warehouse.entrypoints.receiver import Receiver, ReceiverSpec, run_process
from warehouse.service_layer import agents
from warehouse.service_layer.commands import (
    FloorEvent,
    IngestResult,
    MovementRequest,
    ObservationRequest,
    UndecodableEvent,
)
from warehouse.service_layer.ingest import ingest_batch

log = logging.getLogger(__name__)


def translate(topic: str, payload: bytes, max_bytes: int) -> FloorEvent | UndecodableEvent:
    """Decode an ``events`` payload into a use-case input; a refusal becomes an UndecodableEvent."""
    try:
        event = contracts.decode_event(payload, max_bytes=max_bytes)
    except contracts.ContractError as exc:
        return UndecodableEvent(
            topic,
            payload,
            exc.reason,
            exc.detail,
            str(exc.event_id) if exc.event_id else None,
            exc.agent_id,
            exc.site,
            exc.seq,
        )
    parsed = contracts.parse_topic(topic)
    if parsed is None or (parsed.site, parsed.agent_id) != (event.site, event.agent_id):
        return UndecodableEvent(
            topic,
            payload,
            "topic_mismatch",
            f"envelope says site {event.site!r} agent {event.agent_id!r}; topic is {topic!r}",
            str(event.event_id),
            event.agent_id,
            event.site,
            event.seq,
        )
    movement = heartbeat = observation = None
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
        payload=payload,
    )


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
            topics=(
                self._subscription(f"warehouse/v1/{site}/+/events"),
                self._subscription(f"warehouse/v1/{site}/+/status"),
            ),
            log_level=settings.log_level,
            reconnect_delay=reconnect_delay,
        )
        # chunks of (topic, payload) as the receiver hands them over
        self.inbox: queue.Queue[list[tuple[str, bytes]]] = queue.Queue(maxsize=10_000)
        self.connected = threading.Event()  # set once subscribed: events are being received
        self.totals = IngestResult()
        self._totals_lock = threading.Lock()
        self._acked: dict[tuple[str, str], int] = {}  # highest ack published, per agent
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._conn: Connection | None = None
        self._receiver: threading.Thread | BaseProcess | None = None

    def _subscription(self, topic: str) -> str:
        group = self.service.settings.mqtt_share_group
        if group and self.service.settings.mqtt_protocol == "5":
            return f"$share/{group}/{topic}"
        return topic

    def start(self) -> None:
        """Start the receiver (process or thread) and the thread that reads its pipe."""
        self._stopping.clear()
        self._start_receiver()
        threading.Thread(target=self._read, name="ingest-pipe", daemon=True).start()

    def _start_receiver(self) -> None:
        if self._conn is not None:  # a receiver that died: reap it and drop its pipe
            self._conn.close()
        if self._receiver is not None:
            self._receiver.join(1)
        ours, theirs = mp.Pipe(duplex=True)
        self._conn = ours
        if self.service.settings.ingest_receiver == "process":
            process = mp.get_context("spawn").Process(
                target=run_process, args=(self.spec, theirs), name="ingest-receiver", daemon=True
            )
            process.start()
            theirs.close()  # the receiver holds the only copy: it sees EOF when we are gone
            self._receiver = process
        else:
            thread = threading.Thread(
                target=Receiver(self.spec, theirs).run, name="ingest-receiver", daemon=True
            )
            thread.start()
            self._receiver = thread

    def stop(self) -> None:
        """Tell the receiver to disconnect and wait for it."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._send(("stop",))
        if self._receiver is not None:
            self._receiver.join(10)
        if self._conn is not None:
            self._conn.close()

    def _send(self, message: tuple[Any, ...]) -> None:
        assert self._conn is not None
        with self._send_lock:
            self._conn.send(message)

    def _read(self) -> None:
        """Queue the receiver's chunks; start a new receiver if it dies."""
        while not self._stopping.is_set():
            assert self._conn is not None
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self.connected.clear()
                if self._stopping.is_set():
                    return
                log.error("the MQTT receiver ended unexpectedly; starting a new one")
                if self._stopping.wait(1.0):
                    return
                self._start_receiver()
                continue
            if message[0] == "events":
                self.inbox.put(message[1])
            elif message[0] == "up":
                self.connected.set()
            elif message[0] == "down":
                self.connected.clear()

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; batches in progress are finished first.

        ``ingest_threads`` batch threads (one by default) share the queue, each with its own
        connection. Several coordinate the way separate workers in the shared-subscription group
        do: row locks in one order, and the inbox's unique event ids. They rarely help: batches
        lock the same projection and agent rows until they commit, so a second thread mostly
        waits, and its out-of-order commits make passing seq gaps (docs/performance.md).
        """
        self.start()
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
            self.stop()

    def _batches(self, stop: threading.Event) -> None:
        carry: list[tuple[str, bytes]] = []
        while not stop.is_set():
            batch, carry = self._collect(stop, carry)
            if batch:
                self._process(batch, stop)

    def _collect(
        self, stop: threading.Event, carry: list[tuple[str, bytes]]
    ) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
        """At most ``ingest_batch_size`` messages, waiting at most ``ingest_batch_ms`` after the
        first; what a chunk brings beyond that is carried to the next batch."""
        settings = self.service.settings
        size = settings.ingest_batch_size
        batch = carry
        if not batch:
            try:
                batch = self.inbox.get(timeout=0.2)
            except queue.Empty:
                return [], []
        deadline = time.monotonic() + settings.ingest_batch_ms / 1000
        while len(batch) < size and not stop.is_set():
            remaining = deadline - time.monotonic()
            try:
                batch += (
                    self.inbox.get(timeout=remaining) if remaining > 0 else self.inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch[:size], batch[size:]

    def _process(self, batch: list[tuple[str, bytes]], stop: threading.Event) -> None:
        max_bytes = self.service.settings.max_payload_bytes
        events: list[FloorEvent | UndecodableEvent] = []
        for topic, payload in batch:
            if topic.endswith("/status"):
                self._status(topic, payload)
            else:
                events.append(translate(topic, payload, max_bytes))
        if not events:
            return
        delay = 0.1
        while True:
            try:
                result = ingest_batch(
                    self.service.uow(), self.service.catalog, events, datetime.now(UTC)
                )
                break
            except DBAPIError as exc:
                if stop.is_set():
                    log.warning(
                        "stopping with a batch of %d uncommitted; edges re-send it", len(events)
                    )
                    return
                log.warning(
                    "batch of %d failed on the database (%s); retrying in %.1fs",
                    len(events),
                    exc.orig or exc,
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self._publish_acks(result)
        with self._totals_lock:
            for name in ("applied", "duplicates", "rejected", "recorded"):
                setattr(self.totals, name, getattr(self.totals, name) + getattr(result, name))
        log.debug(
            "batch: %d applied, %d duplicates, %d rejected, %d recorded",
            result.applied,
            result.duplicates,
            result.rejected,
            result.recorded,
        )

    def _publish_acks(self, result: IngestResult) -> None:
        now = datetime.now(UTC)
        for (site, agent_id), committed in result.acks.items():
            with self._totals_lock:
                # batch threads commit in any order; a retained ack must never go backwards
                seq = max(committed, self._acked.get((site, agent_id), 0))
                self._acked[(site, agent_id)] = seq
            ack = contracts.Ack(agent_id=agent_id, seq=seq, committed_at=now)
            try:
                self._send(("ack", contracts.topic(site, agent_id, "acks"), contracts.encode(ack)))
            except OSError:
                log.warning(
                    "no receiver to publish the ack for %s; its edge will re-send", agent_id
                )

    def _status(self, topic: str, payload: bytes) -> None:
        parsed = contracts.parse_topic(topic)
        try:
            status = contracts.decode(contracts.Status, payload)
        except contracts.ContractError as exc:
            log.info("ignored status on %s: %s", topic, exc)
            return
        if parsed is None or parsed.agent_id != status.agent_id:
            log.info("ignored status on %s: it names agent %r", topic, status.agent_id)
            return
        agents.record_status(
            self.service.uow(), status.agent_id, parsed.site, status.state, datetime.now(UTC)
        )
