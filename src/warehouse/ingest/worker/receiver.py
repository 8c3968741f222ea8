"""The ingest worker's MQTT side: one paho client that receives events and publishes acks.

It runs in a thread of the worker by default, putting what it receives straight into the
worker's bounded buffer (buffer.py), or in a process of its own when
``ingest_receiver = "process"`` (its own GIL, for a machine with cores to spare; on two cores the
thread was faster, docs/performance.md). Its client decodes QoS 1 messages with mqtt5 in bulk
(adapters/mqtt.py), so little of its work is Python. In a process it has a bounded buffer of its
own and talks to the worker over a duplex pipe:

- to the worker: ``("events", [(topic, payload), ...])``, ``("state", "up" | "down")``,
  ``("refused", reason)`` when the broker will not let it in;
- from the worker: ``("publish", topic, payload, qos)`` (not retained), ``("stop",)``.

Either way a full buffer makes the client's network thread wait, which is the backpressure: it
reads nothing more from the broker until the worker has room. A closed pipe means the other side
is gone: the receiver disconnects and ends, so a worker killed with SIGKILL leaves no receiver
behind taking its share of the subscription. Nothing is acknowledged to an edge before the
worker commits, so events in a buffer or the pipe when either side dies are re-sent by their
edges.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from warehouse.core.mqtt import BrokerAddress, BufferedClient, connect, make_client, never_raise
from warehouse.ingest.worker.buffer import IngestBuffer

log = logging.getLogger(__name__)

#: CONNACK reasons that no retry will change: the worker stops with the reason instead.
REFUSALS = frozenset({"Bad user name or password", "Not authorized", "Client identifier not valid"})


@dataclass(frozen=True, slots=True)
class ReceiverSpec:
    """What the receiver needs to connect; picklable, for the receiver process."""

    address: BrokerAddress
    client_id: str
    protocol: str
    ca_file: Path | None
    topics: tuple[str, ...]
    cert_file: Path | None = None  # a client certificate, when the broker requires one
    key_file: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    reconnect_delay: tuple[float, float] = (1, 30)  # first and longest wait, seconds
    buffer_messages: int = 20_000
    buffer_bytes: int = 64 * 1024 * 1024


class Receiver:
    """One paho client: received messages into ``buffer``, ``publish`` for acks and commands."""

    def __init__(
        self, spec: ReceiverSpec, buffer: IngestBuffer, on_state: Callable[[str, str], None]
    ) -> None:
        self.spec = spec
        self.buffer = buffer
        self.on_state = on_state  # ("up" | "down" | "refused", detail)
        self._stopping = False
        self.client = make_client(
            spec.client_id,
            spec.address,
            protocol=spec.protocol,
            ca_file=spec.ca_file,
            cert_file=spec.cert_file,
            key_file=spec.key_file,
            buffered=True,
        )
        self.client.reconnect_delay_set(*spec.reconnect_delay)  # type: ignore[arg-type]
        self.client.on_connect = never_raise(self._on_connect)
        self.client.on_subscribe = never_raise(self._on_subscribe)
        self.client.on_disconnect = never_raise(self._on_disconnect)
        self.client.on_message = never_raise(self._on_message)
        if isinstance(self.client, BufferedClient):
            self.client.on_messages = never_raise(self.buffer.put_many)

    def start(self) -> None:
        """Connect in the background; reconnects by itself."""
        connect(self.client, self.spec.address)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread (a full buffer lets it go first)."""
        self._stopping = True
        self.buffer.close()
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Not retained: a stale ack or command must never greet a reconnecting edge."""
        self.client.publish(topic, payload, qos=qos, retain=False)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        address = self.spec.address
        if reason.is_failure:
            log.error("broker %s:%s refused the connection: %s", address.host, address.port, reason)
            if str(reason) in REFUSALS:
                self.on_state(
                    "refused",
                    f"the MQTT broker refused the ingest worker: "
                    f"broker {address.host}:{address.port}: {reason}",
                )
            return
        client.subscribe([(topic, 1) for topic in self.spec.topics])
        log.info("connected to %s:%s as %s", address.host, address.port, self.spec.client_id)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("the broker refused the subscription: %s", failed)
            self.on_state(
                "refused",
                f"the MQTT broker refused the ingest worker: subscription refused: {failed}",
            )
            return
        self.on_state("up", "")

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self._stopping:
            log.info("disconnected from the broker")
            return
        log.warning("lost the broker (%s); reconnecting", reason)
        self.on_state("down", str(reason))

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.buffer.put_many([(message.topic, bytes(message.payload))])


def run_process(spec: ReceiverSpec, conn: Connection) -> None:
    """Entry point of the receiver process: ends when the worker says stop or is gone."""
    # Ctrl-C reaches the whole process group; the worker decides when the receiver stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from warehouse.core.process import setup_logging  # the worker's log format

    setup_logging(spec.log_level, spec.log_format)
    send_lock = threading.Lock()
    done = threading.Event()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    def on_state(state: str, detail: str) -> None:
        try:
            send(("refused", detail) if state == "refused" else ("state", state))
        except OSError:
            done.set()

    buffer = IngestBuffer(spec.buffer_messages, spec.buffer_bytes)
    receiver = Receiver(spec, buffer, on_state)

    def commands() -> None:
        try:
            while True:
                command = conn.recv()
                if command[0] == "publish":
                    receiver.publish(command[1], command[2], command[3])
                elif command[0] == "stop":
                    break
        except (EOFError, OSError):
            log.warning("the ingest worker closed the pipe; the receiver stops")
        finally:
            done.set()

    receiver.start()
    threading.Thread(target=commands, name="receiver-commands", daemon=True).start()
    try:
        while not done.is_set():
            chunk = buffer.take(1000, timeout=0.2)
            if chunk:
                send(("events", chunk))  # blocks while the worker's own buffer is full
    except OSError:
        log.warning("the ingest worker is gone; the receiver stops")
    finally:
        receiver.stop()
