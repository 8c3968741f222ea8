"""The worker's end of its MQTT receiver: a thread in this process (the default), or a child
process whose messages come over a pipe (``WAREHOUSE_INGEST_RECEIVER=process``), which is
replaced when it dies. Either way what arrives goes into the worker's buffer, and the worker's
acks and commands go out through it."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import socket
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Protocol

from warehouse.core.config import Settings
from warehouse.core.mqtt import BrokerAddress
from warehouse.ingest.worker.buffer import IngestBuffer, Message
from warehouse.ingest.worker.receiver import Receiver, ReceiverSpec, run_process

log = logging.getLogger(__name__)

#: Told of the receiver's state: ("up" | "down" | "refused", detail).
StateListener = Callable[[str, str], None]


def receiver_spec(
    settings: Settings, client_id: str | None, reconnect_delay: tuple[float, float]
) -> ReceiverSpec:
    """The receiver's connection, subscriptions and buffer, from settings."""
    site = settings.mqtt_site

    def subscription(topic: str) -> str:
        group = settings.mqtt_share_group
        if group and settings.mqtt_protocol == "5":
            return f"$share/{group}/{topic}"
        return topic

    return ReceiverSpec(
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
            subscription(f"warehouse/v1/{site}/+/events"),
            subscription(f"warehouse/v1/{site}/+/status"),
        ),
        log_level=settings.log_level,
        log_format=settings.log_format,
        reconnect_delay=reconnect_delay,
        buffer_messages=settings.ingest_buffer_messages,
        buffer_bytes=int(settings.ingest_buffer_mb * 1024 * 1024),
    )


class Link(Protocol):
    """What the worker needs of its message source: MQTT (BrokerLink) or NATS (JetStreamLink)."""

    def start(self, stop: threading.Event) -> None: ...

    def publish(self, topic: str, payload: bytes, qos: int) -> None: ...

    def settle(self, messages: list[Message]) -> None: ...

    def stop(self) -> None: ...


def make_link(
    settings: Settings,
    client_id: str | None,
    reconnect_delay: tuple[float, float],
    buffer: IngestBuffer,
    on_state: StateListener,
) -> Link:
    """JetStream when ``nats_url`` is set, else the MQTT broker."""
    if settings.nats_url:
        from warehouse.ingest.worker.jetstream import JetStreamLink, jetstream_spec

        return JetStreamLink(jetstream_spec(settings, client_id), buffer, on_state)
    spec = receiver_spec(settings, client_id, reconnect_delay)
    return BrokerLink(spec, buffer, settings.ingest_receiver, on_state)


class BrokerLink:
    """Starts, feeds from and stops the receiver, in a thread or a process."""

    def __init__(
        self, spec: ReceiverSpec, buffer: IngestBuffer, mode: str, on_state: StateListener
    ) -> None:
        self.spec = spec
        self.buffer = buffer
        self.mode = mode
        self.on_state = on_state
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._receiver: Receiver | None = None  # thread mode
        self._conn: Connection | None = None  # process mode: our end of the pipe
        self._process: BaseProcess | None = None

    def start(self, stop: threading.Event) -> None:
        """Start the receiver; in process mode a thread moves its messages into the buffer."""
        self._stop = stop
        self._start_receiver()
        if self._conn is not None:
            threading.Thread(target=self._read_pipe, name="ingest-pipe", daemon=True).start()

    def _start_receiver(self) -> None:
        if self.mode == "thread":
            self._receiver = Receiver(self.spec, self.buffer, self.on_state)
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
                self.on_state("down", "")
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
                self.on_state(message[1], "")
            elif message[0] == "refused":
                self.on_state("refused", message[1])

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publish through the receiver, not retained; OSError when there is none."""
        if self._receiver is not None:
            self._receiver.publish(topic, payload, qos)
            return
        assert self._conn is not None
        with self._send_lock:
            self._conn.send(("publish", topic, payload, qos))

    def settle(self, messages: list[Message]) -> None:
        """Nothing to do: the receiver acknowledged each message to the broker on arrival (the
        edge's own ack, after the commit, is what counts)."""

    def stop(self) -> None:
        """Close the buffer and stop the receiver (a process is given 10 s)."""
        self.buffer.close()
        if self._receiver is not None:
            self._receiver.stop()
        if self._conn is not None:
            with contextlib.suppress(OSError), self._send_lock:
                self._conn.send(("stop",))
            if self._process is not None:
                self._process.join(10)
            self._conn.close()
