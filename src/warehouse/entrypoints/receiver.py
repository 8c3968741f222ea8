"""The ingest worker's MQTT side: one paho client that receives events and publishes acks.

It runs in a thread of the worker by default, or in a process of its own when
``ingest_receiver = "process"`` (its own GIL, for a machine with cores to spare; on two cores the
thread was faster, docs/performance.md). Its client decodes QoS 1 messages with mqtt5 in bulk
(adapters/mqtt.py), so little of its work is Python. Either way it talks to the worker over a
duplex pipe:

- to the worker: ``("events", [(topic, payload), ...])``, ``("up",)`` once subscribed,
  ``("down",)`` when the broker is lost;
- from the worker: ``("ack", topic, payload)`` to publish (QoS 1, retained), ``("stop",)``.

A closed pipe means the other side is gone: the receiver disconnects and ends, so a worker
killed with SIGKILL leaves no receiver behind taking its share of the subscription. Nothing is
acknowledged to an edge before the worker commits, so events in the pipe when either side dies
are re-sent by their edges.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from warehouse.adapters.mqtt import (
    BrokerAddress,
    BufferedClient,
    connect,
    make_client,
    never_raise,
)

log = logging.getLogger(__name__)

#: How long the receiver lets messages gather before handing them over as one pipe message.
GATHER_S = 0.005


@dataclass(frozen=True, slots=True)
class ReceiverSpec:
    """What the receiver needs to connect; picklable, for the receiver process."""

    address: BrokerAddress
    client_id: str
    protocol: str
    ca_file: Path | None
    topics: tuple[str, ...]
    log_level: str = "INFO"
    reconnect_delay: tuple[float, float] = (1, 30)  # first and longest wait, seconds


def run_process(spec: ReceiverSpec, conn: Connection) -> None:
    """Entry point of the receiver process: ends when the worker says stop or is gone."""
    # Ctrl-C reaches the whole process group; the worker decides when the receiver stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from warehouse.entrypoints.cli import setup_logging  # the worker's log format

    setup_logging(spec.log_level)
    Receiver(spec, conn).run()


class Receiver:
    """Hands received messages to the worker in small chunks; publishes the acks it sends."""

    def __init__(self, spec: ReceiverSpec, conn: Connection) -> None:
        self.spec = spec
        self.conn = conn
        self._pending: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()  # guards _pending
        self._arrived = threading.Event()  # _pending is not empty
        self._send_lock = threading.Lock()  # one writer at a time on the pipe
        self._done = threading.Event()
        self._stopping = False
        self.client = make_client(
            spec.client_id,
            spec.address,
            protocol=spec.protocol,
            ca_file=spec.ca_file,
            buffered=True,
        )
        self.client.reconnect_delay_set(*spec.reconnect_delay)  # type: ignore[arg-type]
        self.client.on_connect = never_raise(self._on_connect)
        self.client.on_subscribe = never_raise(self._on_subscribe)
        self.client.on_disconnect = never_raise(self._on_disconnect)
        self.client.on_message = never_raise(self._on_message)
        if isinstance(self.client, BufferedClient):
            self.client.on_messages = never_raise(self._on_messages)

    def run(self) -> None:
        """Connect, then forward until the worker says stop or closes the pipe."""
        connect(self.client, self.spec.address)
        self.client.loop_start()
        commands = threading.Thread(target=self._commands, name="receiver-commands", daemon=True)
        commands.start()
        try:
            while not self._done.is_set():
                if not self._arrived.wait(0.2):
                    continue
                self._done.wait(GATHER_S)
                with self._lock:
                    chunk, self._pending = self._pending, []
                    self._arrived.clear()
                self._send(("events", chunk))
        except OSError:
            log.warning("the ingest worker is gone; the receiver stops")
        finally:
            self._stopping = True
            self._done.set()
            self.client.disconnect()
            self.client.loop_stop()

    def _commands(self) -> None:
        """Publish the worker's acks; end on its stop or when its side of the pipe closes."""
        try:
            while True:
                command = self.conn.recv()
                if command[0] == "ack":
                    self.client.publish(command[1], command[2], qos=1, retain=True)
                elif command[0] == "stop":
                    break
        except (EOFError, OSError):
            log.warning("the ingest worker closed the pipe; the receiver stops")
        finally:
            self._done.set()
            self._arrived.set()

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self.conn.send(message)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        address = self.spec.address
        if reason.is_failure:
            log.error("broker %s:%s refused the connection: %s", address.host, address.port, reason)
            return
        client.subscribe([(topic, 1) for topic in self.spec.topics])
        log.info("connected to %s:%s as %s", address.host, address.port, self.spec.client_id)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("the broker refused the subscription: %s", failed)
            return
        self._send(("up",))

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self._stopping:
            log.info("disconnected from the broker")
            return
        log.warning("lost the broker (%s); reconnecting", reason)
        self._send(("down",))

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._on_messages([(message.topic, bytes(message.payload))])

    def _on_messages(self, messages: list[tuple[str, bytes]]) -> None:
        with self._lock:
            if not self._pending:
                self._arrived.set()
            self._pending += messages
