"""Builders for test events, and waiting for a condition."""

from __future__ import annotations

import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from warehouse import contracts


def movement_payload(
    site: str, agent: str, seq: int, *, event_id: str | None = None, **data: Any
) -> bytes:
    """A contract `movement` event as JSON bytes."""
    doc = {
        "v": 1,
        "event_id": event_id or str(uuid.uuid4()),
        "agent_id": agent,
        "site": site,
        "seq": seq,
        "boot": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "type": "movement",
        "device": "scanner-1",
        "station": "receiving",
        "data": {
            "kind": "receive",
            "code": "5901230001001",
            "lot": "L1",
            "qty": 1,
            "to_location": "WH1-DOCK-1",
            **data,
        },
    }
    return json.dumps(doc).encode()


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def events_topic(site: str, agent: str) -> str:
    return contracts.topic(site, agent, "events")


class ResendingPublisher:
    """A minimal edge: publishes numbered events and re-sends each until an ack covers it."""

    def __init__(
        self,
        host: str,
        port: int,
        site: str,
        agent: str,
        *,
        resend_after: float = 2.0,
        protocol: int = mqtt.MQTTv5,  # nats-server speaks 3.1.1 only
        password: str | None = None,
    ) -> None:

        self.site, self.agent, self.resend_after = site, agent, resend_after
        self.acked = 0
        self.pending: dict[int, tuple[bytes, float]] = {}
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"pub-{agent}", protocol=protocol
        )
        if password is not None:
            self.client.username_pw_set(agent, password)
        self.client.on_connect = lambda c, *_: c.subscribe(contracts.topic(site, agent, "acks"), 1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_ack
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "could not subscribe to acks"

    def _on_ack(self, _c: object, _u: object, message: Any) -> None:
        ack = contracts.decode(contracts.Ack, message.payload)
        with self.lock:
            self.acked = max(self.acked, ack.seq)
            for seq in [s for s in self.pending if s <= ack.seq]:
                del self.pending[seq]

    def publish(self, seq: int, payload: bytes) -> None:
        with self.lock:
            self.pending[seq] = (payload, time.monotonic())
        self.client.publish(events_topic(self.site, self.agent), payload, qos=1)

    def resend_due(self) -> int:
        now = time.monotonic()
        with self.lock:
            due = [(s, p) for s, (p, t) in self.pending.items() if now - t > self.resend_after]
            for seq, payload in due:
                self.pending[seq] = (payload, now)
        for _seq, payload in due:
            self.client.publish(events_topic(self.site, self.agent), payload, qos=1)
        return len(due)

    def wait_all_acked(self, last_seq: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.acked >= last_seq:
                return True
            self.resend_due()
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def token_for(service: Any, *grants: str, name: str = "tester") -> str:
    """An access token signed by ``service`` for ``grants`` (``ROLE@SITE``); no user row."""
    from warehouse.access.domain import parse_grant

    parsed = tuple(parse_grant(g) for g in grants)
    user_id = zlib.crc32(name.encode())  # a principal per name, as rate limits count them
    return str(service.tokens.issue(user_id, name, parsed, datetime.now(UTC)))


def admin_headers(service: Any) -> dict[str, str]:
    """Authorization for an admin at every site."""
    return {"Authorization": f"Bearer {token_for(service, 'admin@*', name='test-admin')}"}
