"""The ingest worker: MQTT events in, one transaction per batch, acks out after commit.

paho's network thread only queues messages; the worker thread decodes, batches (at most
``ingest_batch_size`` events or ``ingest_batch_ms`` after the first) and commits. A batch that
fails on the database is retried with backoff; nothing is acknowledged before it commits, and an
edge agent re-sends whatever is not acknowledged, so a crash loses nothing.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy.exc import DBAPIError

from warehouse import contracts
from warehouse.adapters.mqtt import BrokerAddress, connect, make_client, never_raise
from warehouse.bootstrap import Service
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


@dataclass(frozen=True, slots=True)
class Received:
    """One MQTT message as paho handed it over."""

    topic: str
    payload: bytes


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

    def __init__(self, service: Service, *, client_id: str | None = None) -> None:
        self.service = service
        settings = service.settings
        self.address = BrokerAddress.parse(settings.mqtt_url)
        self.client_id = (
            client_id
            or settings.mqtt_client_id
            or (f"warehouse-ingest-{socket.gethostname()}-{os.getpid()}")
        )
        self.inbox: queue.Queue[Received] = queue.Queue(maxsize=100_000)
        self.connected = threading.Event()  # set once subscribed: events are being received
        self.totals = IngestResult()
        self._totals_lock = threading.Lock()
        self._acked: dict[tuple[str, str], int] = {}  # highest ack published, per agent
        self._stopping = False
        self.client = make_client(
            self.client_id,
            self.address,
            protocol=settings.mqtt_protocol,
            ca_file=settings.mqtt_ca_file,
        )
        self.client.on_connect = never_raise(self._on_connect)
        self.client.on_disconnect = never_raise(self._on_disconnect)
        self.client.on_message = never_raise(self._on_message)
        self.client.on_subscribe = never_raise(self._on_subscribe)

    def _subscription(self, topic: str) -> str:
        group = self.service.settings.mqtt_share_group
        if group and self.service.settings.mqtt_protocol == "5":
            return f"$share/{group}/{topic}"
        return topic

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error(
                "broker %s:%s refused the connection: %s",
                self.address.host,
                self.address.port,
                reason,
            )
            return
        site = self.service.settings.mqtt_site
        client.subscribe(
            [
                (self._subscription(f"warehouse/v1/{site}/+/events"), 1),
                (self._subscription(f"warehouse/v1/{site}/+/status"), 1),
            ]
        )
        log.info("connected to %s:%s as %s", self.address.host, self.address.port, self.client_id)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("the broker refused the subscription: %s", failed)
            return
        self.connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        if self._stopping:
            log.info("disconnected from the broker")
        else:
            log.warning("lost the broker (%s); reconnecting", reason)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(Received(message.topic, bytes(message.payload)))

    def start(self) -> None:
        """Connect and start paho's network thread."""
        connect(self.client, self.address)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; batches in progress are finished first.

        ``ingest_threads`` batch threads share the queue, each with its own connection: one
        prepares its batch in Python while another waits on the database. They coordinate the way
        separate workers in the shared-subscription group do: row locks in one order, and the
        inbox's unique event ids.
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
        while not stop.is_set():
            batch = self._collect(stop)
            if batch:
                self._process(batch, stop)

    def _collect(self, stop: threading.Event) -> list[Received]:
        settings = self.service.settings
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + settings.ingest_batch_ms / 1000
        while len(batch) < settings.ingest_batch_size and not stop.is_set():
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self.inbox.get(timeout=remaining) if remaining > 0 else self.inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Received], stop: threading.Event) -> None:
        max_bytes = self.service.settings.max_payload_bytes
        events: list[FloorEvent | UndecodableEvent] = []
        for item in batch:
            if item.topic.endswith("/status"):
                self._status(item)
            else:
                events.append(translate(item.topic, item.payload, max_bytes))
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
            self.client.publish(
                contracts.topic(site, agent_id, "acks"), contracts.encode(ack), qos=1, retain=True
            )

    def _status(self, item: Received) -> None:
        parsed = contracts.parse_topic(item.topic)
        try:
            status = contracts.decode(contracts.Status, item.payload)
        except contracts.ContractError as exc:
            log.info("ignored status on %s: %s", item.topic, exc)
            return
        if parsed is None or parsed.agent_id != status.agent_id:
            log.info("ignored status on %s: it names agent %r", item.topic, status.agent_id)
            return
        agents.record_status(
            self.service.uow(), status.agent_id, parsed.site, status.state, datetime.now(UTC)
        )
