"""Simulated edge devices for the demo: realistic movements through the real MQTT path.

Three agents (a dock door, a pick station, a store's registers) receive goods, put them away,
pick, ship to the store through transit and sell them. Like a real agent, each keeps what it
sent until the service acknowledges it and re-sends after a timeout.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import paho.mqtt.client as mqtt

from warehouse import contracts
from warehouse.adapters.mqtt import BrokerAddress, connect, make_client, never_raise
from warehouse.domain.model import Product, Tracking

log = logging.getLogger(__name__)
RESEND_AFTER = 5.0
BINS = [f"WH1-{aisle}-{i:02d}" for aisle in "AB" for i in range(1, 7)]
REGISTERS = ["ST1-REG-1", "ST1-REG-2"]


@dataclass
class _Agent:
    agent_id: str
    site: str
    seq: int = 0
    pending: dict[int, tuple[bytes, float]] = field(default_factory=dict)


class DeviceSimulator:
    """Publishes movements for three virtual agents at ``rate`` events per second."""

    def __init__(
        self,
        mqtt_url: str,
        products: list[Product],
        *,
        protocol: str = "5",
        rate: float = 5.0,
        seed: int | None = None,
    ) -> None:
        self.products = [p for p in products if p.gtins]
        self.rate = rate
        self.random = random.Random(seed)  # noqa: S311 - a simulation, not secrets
        self.address = BrokerAddress.parse(mqtt_url)
        self.agents = {
            a.agent_id: a
            for a in (
                _Agent("wh1-dock", "WH1"),
                _Agent("wh1-pick", "WH1"),
                _Agent("st1-pos", "ST1"),
            )
        }
        self.stock: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
        self.lock = threading.Lock()
        self.published = 0
        self.client = make_client(
            f"demo-devices-{uuid.uuid4().hex[:8]}", self.address, protocol=protocol
        )
        self.client.on_connect = never_raise(self._on_connect)
        self.client.on_message = never_raise(self._on_ack)

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe("warehouse/v1/+/+/acks", qos=1)

    def _on_ack(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        ack = contracts.decode(contracts.Ack, bytes(message.payload))
        agent = self.agents.get(ack.agent_id)
        if agent is not None:
            with self.lock:
                for seq in [s for s in agent.pending if s <= ack.seq]:
                    del agent.pending[seq]

    @property
    def unacked(self) -> int:
        """Events sent and not yet acknowledged."""
        with self.lock:
            return sum(len(a.pending) for a in self.agents.values())

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set."""
        connect(self.client, self.address)
        self.client.loop_start()
        try:
            while not stop.wait(1.0 / self.rate):
                if self.client.is_connected():
                    self._publish(*self._next_movement())
                    self._resend()
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def _publish(self, agent_id: str, station: str, data: contracts.MovementData) -> None:
        agent = self.agents[agent_id]
        with self.lock:
            agent.seq += 1
            event = contracts.MovementEvent(
                event_id=uuid.uuid4(),
                agent_id=agent_id,
                site=agent.site,
                seq=agent.seq,
                boot=1,
                occurred_at=datetime.now(UTC),
                device="scanner-1",
                station=station,
                data=data,
            )
            payload = contracts.encode(event)
            agent.pending[agent.seq] = (payload, time.monotonic())
        self.client.publish(contracts.topic(agent.site, agent_id, "events"), payload, qos=1)
        self.published += 1

    def _resend(self) -> None:
        now = time.monotonic()
        with self.lock:
            due = [
                (a, seq, p)
                for a in self.agents.values()
                for seq, (p, sent) in a.pending.items()
                if now - sent > RESEND_AFTER
            ]
            for agent, seq, payload in due:
                agent.pending[seq] = (payload, now)
        for agent, _seq, payload in due:
            self.client.publish(
                contracts.topic(agent.site, agent.agent_id, "events"), payload, qos=1
            )

    # --- what happens on the floor -------------------------------------------------------

    def _next_movement(self) -> tuple[str, str, contracts.MovementData]:
        moves = [
            self._receive,
            self._putaway,
            self._pick,
            self._ship_to_store,
            self._store_receive,
            self._shelve,
            self._sell,
        ]
        weights = [2, 3, 3, 1, 1, 2, 6]
        for _ in range(20):
            move = self.random.choices(moves, weights)[0]()
            if move is not None:
                return move
        return self._receive()

    def _take(
        self, location: str, product: Product | None = None
    ) -> tuple[Product, str, Decimal] | None:
        """Pick something that is at ``location``: (product, lot or serial, qty there)."""
        options = [
            (sku, key, qty)
            for (sku, loc), lots in self.stock.items()
            if loc == location
            for key, qty in lots.items()
            if qty > 0 and (product is None or sku == product.sku)
        ]
        if not options:
            return None
        sku, key, qty = self.random.choice(options)
        return next(p for p in self.products if p.sku == sku), key, qty

    def _move(
        self, product: Product, key: str, qty: Decimal, src: str | None, dst: str | None
    ) -> None:
        if src:
            self.stock[(product.sku, src)][key] -= qty
        if dst:
            lots = self.stock[(product.sku, dst)]
            lots[key] = lots.get(key, Decimal(0)) + qty

    def _data(
        self,
        kind: str,
        product: Product,
        key: str,
        qty: Decimal,
        src: str | None,
        dst: str | None,
        *,
        code: bool = True,
    ) -> contracts.MovementData:
        lot = key if product.tracking is Tracking.LOT else None
        serial = key if product.tracking is Tracking.SERIAL else None
        gtin14 = product.gtins[0].zfill(14)
        scanned = gtin14[1:]  # an EAN-13 as printed on the pack
        if lot:
            scanned = f"]C101{gtin14}10{lot}"
        elif serial:
            scanned = f"]C101{gtin14}21{serial}"
        return contracts.MovementData(
            kind=kind,
            code=scanned if code else None,
            sku=None if code else product.sku,
            qty=qty,
            from_location=src,
            to_location=dst,
        )

    def _receive(self) -> tuple[str, str, contracts.MovementData]:
        product = self.random.choice(self.products)
        dock = self.random.choice(["WH1-DOCK-1", "WH1-DOCK-2"])
        if product.tracking is Tracking.SERIAL:
            key, qty = f"SN{self.random.randrange(10**8):08d}", Decimal(1)
        elif product.allows_fraction:
            key, qty = "", Decimal(self.random.randrange(5000, 20000)) / 1000
        else:
            key, qty = "", Decimal(self.random.choice([6, 12, 24, 48]))
        if product.tracking is Tracking.LOT:
            key = f"L{(datetime.now(UTC) + timedelta(days=90)):%y%m%d}{self.random.randrange(10)}"
        self._move(product, key, qty, None, dock)
        return "wh1-dock", "receiving", self._data("receive", product, key, qty, None, dock)

    def _putaway(self) -> tuple[str, str, contracts.MovementData] | None:
        dock = self.random.choice(["WH1-DOCK-1", "WH1-DOCK-2"])
        found = self._take(dock)
        if found is None:
            return None
        product, key, qty = found
        bin_ = self.random.choice(BINS)
        self._move(product, key, qty, dock, bin_)
        return "wh1-dock", "putaway", self._data("transfer", product, key, qty, dock, bin_)

    def _pick(self) -> tuple[str, str, contracts.MovementData] | None:
        found = self._take(self.random.choice(BINS))
        if found is None:
            return None
        product, key, have = found
        qty = min(have, Decimal(self.random.randrange(1, 4)))
        src = next(
            loc
            for (sku, loc), lots in self.stock.items()
            if sku == product.sku and loc in BINS and lots.get(key, 0) >= qty
        )
        self._move(product, key, qty, src, "WH1-PACK")
        return "wh1-pick", "picking", self._data("pick", product, key, qty, src, "WH1-PACK")

    def _ship_to_store(self) -> tuple[str, str, contracts.MovementData] | None:
        found = self._take("WH1-PACK")
        if found is None:
            return None
        product, key, qty = found
        self._move(product, key, qty, "WH1-PACK", "TRANSIT")
        return "wh1-pick", "shipping", self._data("ship", product, key, qty, "WH1-PACK", "TRANSIT")

    def _store_receive(self) -> tuple[str, str, contracts.MovementData] | None:
        found = self._take("TRANSIT")
        if found is None:
            return None
        product, key, qty = found
        self._move(product, key, qty, "TRANSIT", "ST1-BACK")
        return (
            "st1-pos",
            "receiving",
            self._data("receive", product, key, qty, "TRANSIT", "ST1-BACK"),
        )

    def _shelve(self) -> tuple[str, str, contracts.MovementData] | None:
        found = self._take("ST1-BACK")
        if found is None:
            return None
        product, key, qty = found
        register = self.random.choice(REGISTERS)
        self._move(product, key, qty, "ST1-BACK", register)
        return (
            "st1-pos",
            "replenish",
            self._data("transfer", product, key, qty, "ST1-BACK", register),
        )

    def _sell(self) -> tuple[str, str, contracts.MovementData] | None:
        register = self.random.choice(REGISTERS)
        found = self._take(register)
        if found is None:
            return None
        product, key, have = found
        qty = min(
            have,
            Decimal(1)
            if not product.allows_fraction
            else Decimal(self.random.randrange(200, 1500)) / 1000,
        )
        self._move(product, key, qty, register, None)
        return "st1-pos", "pos", self._data("sale", product, key, qty, register, None)
