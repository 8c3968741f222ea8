"""The ingest worker's NATS side: device events from a JetStream stream, acks and commands out
as NATS messages that the cluster's MQTT listener hands to the devices.

Devices speak MQTT to any node of the cluster. The server's account mappings
(contracts.topics.nats_mappings) put their events and status into
``warehouse.ingest.{partition}.{site}.{agent}.{channel}``, the partition a hash of site and agent,
and the stream WAREHOUSE_INGEST keeps those subjects (replicated, a work queue). Each partition
has a durable pull consumer, and at any time one worker consumes it: workers share the
partitions through leases in a NATS key-value bucket (leases.py), so each agent's events are
applied in the order it sent them, and when a worker dies its partitions pass to the others once
its leases lapse.

A message is acknowledged to JetStream only after its batch commits (``settle``: the consumers
ack all, so one ack per partition and batch covers the batch); one that is not, because the
worker died or stopped, is delivered again after ``ack_wait_s``, and the inbox's unique event
ids make that harmless. With ``ingest_threads`` above 1 a later batch may commit, and ack, before
an earlier one; if the worker dies in between, JetStream has forgotten the earlier batch, and its
agents, which it never acked, send it again. The end-to-end guarantee is still the agent's: it
keeps an event until the worker's ack (published after the commit) comes back, and re-sends it
otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from warehouse.contracts.topics import NATS_INGEST, nats_subject, topic_of_ingest_subject
from warehouse.core.config import Settings
from warehouse.ingest.worker.buffer import IngestBuffer, Message
from warehouse.ingest.worker.leases import Leases

log = logging.getLogger(__name__)

#: Told of the link's state: ("up" | "down" | "refused", detail).
StateListener = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class JetStreamSpec:
    """Where the cluster is and how the ingest stream is laid out."""

    servers: tuple[str, ...]
    worker_id: str
    partitions: int
    replicas: int
    ca_file: Path | None = None
    stream: str = "WAREHOUSE_INGEST"
    bucket: str = "warehouse_ingest_leases"
    lease_s: float = 6.0  # a dead worker's partitions pass on within this and one tick
    fetch: int = 500
    ack_wait_s: float = 30.0
    max_ack_pending: int = 50_000
    keep_days: float = 7.0  # events nobody consumed are dropped after this (agents re-send)


def jetstream_spec(settings: Settings, client_id: str | None) -> JetStreamSpec:
    """The spec from settings; the worker id names its leases (a valid key-value token)."""
    name = client_id or settings.mqtt_client_id or f"{socket.gethostname()}-{os.getpid()}"
    return JetStreamSpec(
        servers=tuple(url.strip() for url in settings.nats_url.split(",") if url.strip()),
        worker_id=re.sub(r"[^A-Za-z0-9_-]", "_", name),
        partitions=settings.nats_partitions,
        replicas=settings.nats_replicas,
        ca_file=settings.nats_ca_file,
    )


def stream_config(spec: JetStreamSpec) -> StreamConfig:
    """The ingest stream: every partition's subjects, replicated, emptied as consumed.

    Interest retention: a message stays until the consumers interested in it acknowledge it,
    and each partition's durable consumer, created with the stream, is the one. (A work queue
    would do the same, but requires a consumer to acknowledge every message on its own; these
    acknowledge all up to one, once per partition and batch.)"""
    return StreamConfig(
        name=spec.stream,
        subjects=[f"{NATS_INGEST}.>"],
        retention=RetentionPolicy.INTEREST,
        storage=StorageType.FILE,
        num_replicas=spec.replicas,
        max_age=spec.keep_days * 86_400,
    )


def consumer_config(spec: JetStreamSpec, partition: int) -> ConsumerConfig:
    """A partition's durable pull consumer: from the start, acks covering all before them."""
    return ConsumerConfig(
        durable_name=f"ingest-{partition}",
        filter_subject=f"{NATS_INGEST}.{partition}.>",
        ack_policy=AckPolicy.ALL,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=spec.ack_wait_s,
        max_ack_pending=spec.max_ack_pending,
    )


class JetStreamLink:
    """Consumes the partitions this worker holds into ``buffer``; ``publish`` and ``settle``
    may be called from any thread."""

    def __init__(self, spec: JetStreamSpec, buffer: IngestBuffer, on_state: StateListener) -> None:
        self.spec = spec
        self.buffer = buffer
        self.on_state = on_state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nc: Nats | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._sending: set[asyncio.Future[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # consuming a partition, or finishing to
        self.leases: Leases | None = None  # the partitions held, once connected

    def start(self, stop: threading.Event) -> None:
        """Connect and consume in a thread of its own (nats-py is asyncio)."""
        del stop  # the worker calls stop() once its batches are done
        self._thread = threading.Thread(target=self._run, name="ingest-nats", daemon=True)
        self._thread.start()
        self._started.wait(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stopping = asyncio.Event()
        self._started.set()
        try:
            loop.run_until_complete(self._main())
        except Exception:  # the link's top level: log; the worker sees "down" and not ready
            log.exception("the NATS link stopped")
            self.on_state("down", "the NATS link stopped")
        finally:
            loop.close()

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """An ack or command to a device: a core NATS message on the topic's subject, which
        the MQTT listener delivers (at QoS 0: acks are cumulative, and the agent re-sends what
        a lost one leaves unacknowledged). OSError when not connected."""
        del qos
        loop, nc = self._loop, self._nc
        if loop is None or nc is None or not nc.is_connected:
            raise OSError("not connected to NATS")
        loop.call_soon_threadsafe(self._send, [(nats_subject(topic), payload)])

    def settle(self, messages: list[Message]) -> None:
        """Acknowledge committed messages to JetStream: the consumers ack all up to the one
        acknowledged, so the last of each partition's in the batch stands for the rest."""
        last: dict[str, str] = {}
        for message in messages:
            if len(message) > 2:
                last[_consumer_of(message[2])] = message[2]
        replies = [(reply, b"+ACK") for reply in last.values()]
        loop = self._loop
        if replies and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._send, replies)

    def _send(self, messages: list[tuple[str, bytes]]) -> None:
        nc = self._nc
        if nc is not None:
            task = asyncio.ensure_future(_publish_all(nc, messages))
            self._sending.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._sending.discard)

    def stop(self) -> None:
        """Release the leases, drain and close (up to 10 s)."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    # --- in the link's event loop -----------------------------------------------------------

    async def _main(self) -> None:
        assert self._stopping is not None
        nc = await self._connect()
        if nc is None:
            return
        self._nc = nc
        url = nc.connected_url.netloc if nc.connected_url else "?"
        log.info("connected to NATS at %s as %s", url.rsplit("@", 1)[-1], self.spec.worker_id)
        js = nc.jetstream()
        try:
            if not await self._ensure_stream(js):
                return
            spec = self.spec
            bucket = (spec.bucket, spec.lease_s, spec.replicas)
            leases = await Leases.open(js, bucket, spec.worker_id, spec.partitions, self._stopping)
            if leases is None:
                return
            self.leases = leases
            self.on_state("up", "")
            await self._hold_partitions(js, leases)
        finally:
            with contextlib.suppress(Exception):  # closing what may already be gone
                await nc.drain()

    async def _connect(self) -> Nats | None:
        """Connected, or None when stopped first or the cluster refused our credentials."""
        assert self._stopping is not None
        delay = 0.5
        while not self._stopping.is_set():
            try:
                return await nats.connect(
                    servers=list(self.spec.servers),
                    name=f"warehouse-ingest-{self.spec.worker_id}",
                    tls=self._tls(),
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            except nats.errors.Error as exc:
                if "authorization" in str(exc).lower():
                    self.on_state("refused", f"NATS refused the ingest worker: {exc}")
                    return None
                log.warning("NATS unreachable (%s); trying again in %.1fs", exc, delay)
            except OSError as exc:
                log.warning("NATS unreachable (%s); trying again in %.1fs", exc, delay)
            await _wait(self._stopping, delay)
            delay = min(delay * 2, 10.0)
        return None

    def _tls(self) -> ssl.SSLContext | None:
        if not any(url.startswith("tls://") for url in self.spec.servers):
            return None
        ca = str(self.spec.ca_file) if self.spec.ca_file else None
        return ssl.create_default_context(cafile=ca)

    async def _ensure_stream(self, js: JetStreamContext) -> bool:
        """Create the stream unless it exists, and every partition's consumer (while the
        cluster elects leaders, try again)."""
        assert self._stopping is not None
        while not self._stopping.is_set():
            try:
                try:
                    await js.stream_info(self.spec.stream)
                except NotFoundError:
                    await js.add_stream(stream_config(self.spec))
                    log.info("created the stream %s", self.spec.stream)
                for partition in range(self.spec.partitions):  # the same config: no change
                    await js.add_consumer(self.spec.stream, consumer_config(self.spec, partition))
                return True
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("cannot reach the stream %s yet: %s", self.spec.stream, exc)
                await _wait(self._stopping, 1.0)
        return False

    async def _hold_partitions(self, js: JetStreamContext, leases: Leases) -> None:
        """Renew and balance the leases every third of a lease; consume what we hold. A
        partition given up is consumed until the fetch in hand is in the buffer (a fetch cut
        short would leave its messages undelivered until ``ack_wait_s``)."""
        assert self._stopping is not None
        running: dict[int, tuple[asyncio.Task[None], asyncio.Event]] = {}
        try:
            while not self._stopping.is_set():
                gained, lost = await leases.tick()
                for partition in lost:
                    running.pop(partition)[1].set()
                for partition, (task, _) in list(running.items()):
                    if task.done():  # ended by a bug: log it and consume the partition again
                        log.error("consuming partition %d stopped: %r", partition, task.exception())
                        gained.add(partition)
                for partition in gained:
                    given_up = asyncio.Event()
                    task = asyncio.create_task(self._consume(js, partition, given_up))
                    running[partition] = (task, given_up)
                    self._tasks.add(task)  # held until done: the loop keeps weak references
                    task.add_done_callback(self._tasks.discard)
                if gained or lost:
                    log.info("consuming partitions %s", sorted(running) or "none")
                await _wait(self._stopping, self.spec.lease_s / 3)
        finally:
            for _, given_up in running.values():
                given_up.set()
            if self._tasks:
                _, late = await asyncio.wait(set(self._tasks), timeout=3)
                for task in late:
                    task.cancel()
            await leases.release()

    async def _consume(self, js: JetStreamContext, partition: int, given_up: asyncio.Event) -> None:
        """Fetch the partition's messages into the buffer, in order, until given up."""
        config = consumer_config(self.spec, partition)
        subject = config.filter_subject
        assert subject is not None
        while True:
            try:
                sub = await js.pull_subscribe(
                    subject, durable=config.durable_name, stream=self.spec.stream, config=config
                )
                break
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("cannot consume partition %d yet: %s", partition, exc)
                if await _wait(given_up, 1.0):
                    return
        try:
            while not given_up.is_set():
                try:
                    batch = await sub.fetch(self.spec.fetch, timeout=1.0)
                except TimeoutError:  # nothing came (nats-py raises both kinds)
                    continue
                except Exception as exc:  # noqa: BLE001 - a leader election, a lost server: retry
                    log.debug("fetch from partition %d failed: %s", partition, exc)
                    await _wait(given_up, 0.5)
                    continue
                items: list[Message] = [
                    (topic_of_ingest_subject(m.subject), m.data, m.reply) for m in batch
                ]
                await asyncio.to_thread(self.buffer.put_many, items)  # waits while it is full
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS: %s", exc)

    async def _on_disconnected(self) -> None:
        log.warning("lost the NATS server; reconnecting")
        self.on_state("down", "disconnected")

    async def _on_reconnected(self) -> None:
        nc = self._nc
        url = nc.connected_url.netloc if nc is not None and nc.connected_url else "?"
        log.info("reconnected to NATS at %s", url.rsplit("@", 1)[-1])
        self.on_state("up", "")


def _consumer_of(reply: str) -> str:
    """The consumer an ack subject belongs to: ``$JS.ACK.<stream>.<consumer>.…`` (nats-server
    2.9), or with a domain and account hash before the stream (2.10 and later)."""
    parts = reply.split(".")
    return parts[3] if len(parts) == 9 else parts[5]


async def _publish_all(nc: Nats, messages: list[tuple[str, bytes]]) -> None:
    try:
        for subject, payload in messages:
            await nc.publish(subject, payload)
    except nats.errors.Error as exc:  # the agent re-sends; JetStream delivers again
        log.warning("could not publish %d messages to NATS: %s", len(messages), exc)


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` was set within ``seconds``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()
