"""The MQTT side of the agent: sends the outbox in order, takes acks and commands.

Retained ``status`` says ``online`` (a birth message with version, boot and devices); the last
will says ``offline``. At most ``max_inflight`` units of work are unacknowledged on the wire (an
event is one unit, an RFID observation one per tag it lists, so ten 10-tag observations weigh
as much as a hundred scans and no more reach the service than it can apply within
``ack_timeout_s``); an event
not acked within ``ack_timeout_s``, or still unacked at a reconnect, is sent again. Callbacks
never raise into paho's network thread.

An ack is believed only up to the highest seq this run of the agent has published (or that was
acknowledged before it started): anything above can only be forged or stale, and is ignored,
logged and counted (``ignored_acks``). The service does not retain acks, so after a restart the
agent learns its acks from the answers to what it sends again.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from warehouse import contracts
from warehouse_edge.config import AgentConfig
from warehouse_edge.outbox import Outbox, Pending

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def never_raise(func: F) -> F:
    """Log and swallow: an exception in a paho callback would stop its network loop."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:
            log.exception("MQTT callback %s failed", func.__name__)
            return None

    return wrapper  # type: ignore[return-value]


class Publisher:
    """Connects, keeps the outbox flowing to the broker, and hands commands to the agent."""

    def __init__(
        self,
        config: AgentConfig,
        outbox: Outbox,
        *,
        on_command: Callable[[contracts.Command], None],
        birth: Callable[[], contracts.Status],
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.on_command = on_command
        self.birth = birth
        self.connected = threading.Event()
        self._inflight: dict[int, float] = {}  # seq -> sent at (monotonic)
        self._weights: dict[int, int] = {}  # seq -> its weight (tags listed, at least 1)
        self._weight = 0  # the sum of _weights
        self._highest_sent = 0  # since the last (re)connect: where sending resumes
        # never goes down: the most an ack may cover
        self._highest_published = outbox.stats().last_acked_seq
        self.ignored_acks = 0
        # for /metrics: plain counters (the GIL makes += safe enough for figures like these)
        self.published = self.resent = self.acks = self.connects = 0
        self.loop_at = time.monotonic()  # when the send loop last went round (the watchdog)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._urls = config.broker.urls()
        self._url = 0  # the index of the URL connected to, or tried next
        self.client = self._client()

    def topic(self, channel: Literal["events", "status", "commands", "acks"]) -> str:
        """One of this agent's topics."""
        return contracts.topic(self.config.site, self.config.agent_id, channel)

    def _client(self) -> mqtt.Client:
        cfg = self.config
        v5 = cfg.broker.protocol == "5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"edge-{cfg.site}-{cfg.agent_id}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        client.max_inflight_messages_set(cfg.outbox.max_inflight)
        client.max_queued_messages_set(0)
        url = urlsplit(cfg.broker.url)
        username = cfg.broker.username or (unquote(url.username) if url.username else None)
        password = (
            cfg.broker.password.get_secret_value()
            if cfg.broker.password
            else unquote(url.password)
            if url.password
            else None
        )
        if username:
            client.username_pw_set(username, password)
        if url.scheme == "mqtts":
            context = ssl.create_default_context(
                cafile=str(cfg.broker.ca_file) if cfg.broker.ca_file else None
            )
            if cfg.broker.cert_file:
                context.load_cert_chain(
                    str(cfg.broker.cert_file),
                    str(cfg.broker.key_file) if cfg.broker.key_file else None,
                )
            client.tls_set_context(context)
        offline = contracts.Status(agent_id=cfg.agent_id, state="offline")
        client.will_set(self.topic("status"), contracts.encode(offline), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = never_raise(self._on_connect)
        client.on_connect_fail = never_raise(self._on_connect_fail)
        client.on_disconnect = never_raise(self._on_disconnect)
        client.on_message = never_raise(self._on_message)
        return client

    def start(self) -> None:
        """Connect in the background and start the sender."""
        self._aim()
        self.client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name="outbox-sender", daemon=True)
        self._sender.start()

    def _aim(self) -> str:
        """Point the client at the current URL: paho's loop (re)connects there next. Return
        ``host:port`` (no credentials), for the log."""
        url = urlsplit(self._urls[self._url])
        host, port = (
            url.hostname or "127.0.0.1",
            url.port or (8883 if url.scheme == "mqtts" else 1883),
        )
        kwargs: dict[str, Any] = {}
        if self.config.broker.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0
            kwargs = {"clean_start": True, "properties": props}
        self.client.connect_async(host, port, self.config.broker.keepalive_s, **kwargs)
        return f"{host}:{port}"

    def _fail_over(self) -> None:
        """Try the cluster's next URL (with more than one): called on paho's thread, before its
        loop waits its backoff and reconnects."""
        if len(self._urls) < 2 or self._stopping.is_set():
            return
        self._url = (self._url + 1) % len(self._urls)
        log.warning("trying the next broker: %s", self._aim())

    def stop(self) -> None:
        """Say offline, disconnect, stop."""
        self._stopping.set()
        self._wake.set()
        self._sender.join(5)
        if self.connected.is_set():
            offline = contracts.Status(
                agent_id=self.config.agent_id, state="offline", at=datetime.now(UTC)
            )
            self.client.publish(
                self.topic("status"), contracts.encode(offline), qos=1, retain=True
            ).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def wake(self) -> None:
        """New events are in the outbox."""
        self._wake.set()

    # --- callbacks -----------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self.outbox.next_boot()
        self.connects += 1
        client.subscribe([(self.topic("acks"), 1), (self.topic("commands"), 1)])
        client.publish(self.topic("status"), contracts.encode(self.birth()), qos=1, retain=True)
        with self._lock:  # whatever was on the wire before is sent again
            self._forget_all()
            self._highest_sent = 0
        self.connected.set()
        self._wake.set()
        log.info(
            "connected to the broker as %s (boot %d)", client._client_id.decode(), self.outbox.boot
        )

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("lost the broker (%s); the outbox keeps every event", reason)
            self._fail_over()

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        self._fail_over()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        if message.topic.endswith("/acks"):
            try:
                ack = contracts.decode(contracts.Ack, payload)
            except contracts.ContractError as exc:
                log.warning("ignored an ack: %s", exc)
                return
            with self._lock:
                bound = self._highest_published
            if ack.seq > bound:
                self.ignored_acks += 1
                log.warning(
                    "ignored an ack for seq %d: nothing above seq %d has been published "
                    "(forged, or left over from another outbox); %d ignored so far",
                    ack.seq,
                    bound,
                    self.ignored_acks,
                )
                return
            self.outbox.ack(ack.seq)
            self.acks += 1
            with self._lock:
                for seq in [s for s in self._inflight if s <= ack.seq]:
                    self._forget(seq)
            self._wake.set()
        else:
            try:
                command = contracts.decode(contracts.Command, payload)
            except contracts.ContractError as exc:
                log.warning("ignored a command: %s", exc)
                return
            if isinstance(command.body, contracts.ResyncCommand):
                from_seq = command.body.from_seq
                count = self.outbox.resync(from_seq)
                with self._lock:
                    self._highest_sent = min(self._highest_sent, from_seq - 1)
                    self._forget_all()
                oldest = self.outbox.oldest_kept_seq()
                if oldest is None or oldest > from_seq:
                    log.warning(
                        "asked to re-send from seq %d, but the outbox keeps nothing below %s: "
                        "the service is told in the next heartbeat",
                        from_seq,
                        oldest,
                    )
                log.info("resync from seq %d: %d events made pending again", from_seq, count)
                self._wake.set()
            self.on_command(command)

    # --- sending -------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._stopping.is_set():
            self.loop_at = time.monotonic()
            self._wake.wait(0.5)
            self._wake.clear()
            if not self.connected.is_set():
                continue
            try:
                self._resend_overdue()
                self._send_new()
            except Exception:
                log.exception("sending from the outbox failed")

    def _forget(self, seq: int) -> None:
        del self._inflight[seq]
        self._weight -= self._weights.pop(seq, 1)

    def _forget_all(self) -> None:
        self._inflight.clear()
        self._weights.clear()
        self._weight = 0

    def _send_new(self) -> None:
        window = self.config.outbox.max_inflight
        while self.connected.is_set():
            with self._lock:
                room = window - self._weight
                after = self._highest_sent
                idle = not self._inflight
            if room <= 0:
                return
            pending = self.outbox.pending(after, min(room, 500))
            batch: list[Pending] = []
            for event in pending:  # up to the window's weight; one heavy event always goes
                room -= weight(event.payload)
                if room < 0 and (batch or not idle):
                    break
                batch.append(event)
            if not batch:
                return
            now = time.monotonic()
            with self._lock:  # before publishing: the first ack may be back before the last send
                self._highest_published = max(self._highest_published, batch[-1].seq)
            for event in batch:
                self.client.publish(event.topic, event.payload, qos=1)
            self.published += len(batch)
            with self._lock:
                for event in batch:
                    self._inflight[event.seq] = now
                    self._weights[event.seq] = weight(event.payload)
                    self._weight += self._weights[event.seq]
                self._highest_sent = max(self._highest_sent, batch[-1].seq)

    def _resend_overdue(self) -> None:
        timeout = self.config.outbox.ack_timeout_s
        now = time.monotonic()
        with self._lock:
            overdue = sorted(s for s, sent in self._inflight.items() if now - sent > timeout)
        if not overdue:
            return
        events = {e.seq: e for e in self.outbox.pending(overdue[0] - 1, len(overdue) + 500)}
        for seq in overdue:
            event = events.get(seq)
            if event is not None:
                self.client.publish(event.topic, event.payload, qos=1)
                self.resent += 1
        with self._lock:
            for seq in overdue:
                if seq in self._inflight:
                    self._inflight[seq] = now
        log.info("re-sent %d events not acknowledged within %.0fs", len(overdue), timeout)

    @property
    def inflight(self) -> int:
        """Events sent and not yet acknowledged."""
        with self._lock:
            return len(self._inflight)


def weight(payload: bytes) -> int:
    """What an event costs the service, in scans: an observation one per tag it lists."""
    return max(1, payload.count(b'"epc"'))
