"""The agent: devices → decode → debounce → station profile → outbox → publisher.

A read is acknowledged to the operator (``ok`` beep) only after its event is committed to the
outbox; a read that cannot be used gets an ``error`` beep and a log line, never an event.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from warehouse import contracts
from warehouse_drivers import Driver, Read, RejectedRead, create_driver
from warehouse_edge import __version__
from warehouse_edge.config import AgentConfig, Device
from warehouse_edge.debounce import Debouncer
from warehouse_edge.outbox import Outbox, OutboxFull
from warehouse_edge.profiles import Message, StationState, interpret
from warehouse_edge.publisher import Publisher
from warehouse_edge.supervisor import Supervisor

log = logging.getLogger(__name__)


class Agent:
    """One edge agent: its devices, stations, outbox and broker connection."""

    def __init__(self, config: AgentConfig, *, drivers: dict[str, Driver] | None = None) -> None:
        self.config = config
        self.started = time.monotonic()
        self.outbox = Outbox(
            config.outbox.path,
            budget_bytes=int(config.outbox.disk_budget_mb * 1_000_000),
            keep_acked_s=config.outbox.keep_acked_h * 3600,
        )
        self.states = {s.name: StationState(s.mode) for s in config.stations}
        self.debouncers = {s.name: Debouncer(s.debounce_ms / 1000) for s in config.stations}
        self.devices = {d.name: d for d in config.devices}
        drivers = drivers or {}
        self.supervisors = {
            d.name: Supervisor(
                drivers.get(d.name) or self._driver(d), functools.partial(self.handle, d)
            )
            for d in config.devices
        }
        self.publisher = Publisher(config, self.outbox, on_command=self.command, birth=self.birth)
        self.locally_rejected = 0
        self._lock = threading.Lock()

    @staticmethod
    def _driver(device: Device) -> Driver:
        return create_driver(device.driver, device.name, **device.params)

    # --- lifecycle -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set."""
        self.publisher.start()
        for supervisor in self.supervisors.values():
            supervisor.start()
        log.info(
            "agent %s at site %s: %d devices, %d stations, outbox %s",
            self.config.agent_id,
            self.config.site,
            len(self.supervisors),
            len(self.states),
            self.config.outbox.path,
        )
        next_beat = time.monotonic() + self.config.heartbeat_s
        try:
            while not stop.wait(1.0):
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.config.heartbeat_s
                    if self.publisher.connected.is_set():
                        self._heartbeat()
        finally:
            for supervisor in self.supervisors.values():
                supervisor.stop()
            self.publisher.stop()
            self.outbox.close()
            log.info("agent stopped")

    # --- reads ---------------------------------------------------------------------------

    def handle(self, device: Device, item: Read | RejectedRead) -> None:
        """One read from a device (called on that device's thread)."""
        driver = self.supervisors[device.name].driver
        if isinstance(item, RejectedRead):
            self._reject(driver, device, f"{item.reason}: {item.detail}")
            return
        station = self.config.station(device.station)
        if len(item.data) > self.config.max_code_length:
            self._reject(driver, device, f"code of {len(item.data)} characters is too long")
            return
        if not station.count_by_repeat and not self.debouncers[station.name].accept(
            device.name, item.data, time.monotonic()
        ):
            log.debug("device %s: repeat of %r suppressed", device.name, item.data)
            return
        with self._lock:  # station state is shared by the station's devices
            outcome = interpret(station, self.states[station.name], item.data)
        if outcome.level == "error":
            self._reject(driver, device, outcome.text)
            return
        try:
            for message in outcome.messages:
                seq = self._append(message, device.name, station.name)
                log.info("device %s: %s seq=%d", device.name, _describe(message), seq)
        except OutboxFull as exc:
            log.error("device %s: scan REFUSED, %s", device.name, exc)
            driver.feedback("error")
            return
        self.publisher.wake()
        driver.feedback(outcome.level)

    def _reject(self, driver: Driver, device: Device, why: str) -> None:
        with self._lock:
            self.locally_rejected += 1
        log.warning("device %s: read rejected: %s", device.name, why)
        driver.feedback("error")

    def _append(
        self, message: Message | contracts.HeartbeatData, device: str | None, station: str | None
    ) -> int:
        event_id = uuid.uuid4()
        occurred_at = datetime.now(UTC)
        cfg = self.config
        model: Any = {
            contracts.MovementData: contracts.MovementEvent,
            contracts.ScanData: contracts.ScanEvent,
            contracts.HeartbeatData: contracts.HeartbeatEvent,
        }[type(message)]
        topic = contracts.topic(cfg.site, cfg.agent_id, "events")

        def render(seq: int) -> tuple[str, str, bytes]:
            event = model(
                event_id=event_id,
                agent_id=cfg.agent_id,
                site=cfg.site,
                seq=seq,
                boot=self.outbox.boot,
                occurred_at=occurred_at,
                device=device,
                station=station,
                data=message,
            )
            return str(event_id), topic, contracts.encode(event)

        return self.outbox.append(render)

    # --- commands, health ----------------------------------------------------------------

    def command(self, command: contracts.Command) -> None:
        """A command from the service (called on paho's thread; never raises)."""
        body = command.body
        if isinstance(body, contracts.FeedbackCommand):
            targets = [body.device] if body.device else list(self.supervisors)
            for name in targets:
                if name in self.supervisors:
                    self.supervisors[name].driver.feedback(body.level)
            log.info("feedback %s to %s: %s", body.level, ", ".join(targets), body.text)
        elif isinstance(body, contracts.StationModeCommand):
            state = self.states.get(body.station)
            if state is None or body.mode not in _mode_names():
                log.warning(
                    "ignored station_mode %s/%s: unknown station or mode", body.station, body.mode
                )
                return
            with self._lock:
                state.mode, state.order_ref, state.location = body.mode, None, None
            log.info("station %s is now in %s mode", body.station, body.mode)

    def birth(self) -> contracts.Status:
        """The retained ``online`` status."""
        return contracts.Status(
            agent_id=self.config.agent_id,
            state="online",
            boot=self.outbox.boot,
            version=__version__,
            devices=list(self.supervisors),
            at=datetime.now(UTC),
        )

    def health(self) -> dict[str, Any]:
        """Everything an operator wants to know, for heartbeats and the CLI."""
        stats = self.outbox.stats()
        healths = [s.health for s in self.supervisors.values()]
        devices = {name: s.health.as_dict() for name, s in self.supervisors.items()}
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "reads": sum(h.reads for h in healths),
            "errors": sum(h.errors + h.rejected for h in healths) + self.locally_rejected,
            "outbox_depth": stats.pending,
            "oldest_unsent_age_s": round(stats.oldest_pending_age_s or 0, 1),
            "devices": devices,
        }

    def _heartbeat(self) -> None:
        health = self.health()
        devices = {
            name: {
                k: v
                for k, v in d.items()
                if k in ("state", "reads", "errors", "reconnects", "last_error")
            }
            for name, d in health["devices"].items()
        }
        data = contracts.HeartbeatData(
            uptime_s=health["uptime_s"],
            reads=health["reads"],
            errors=health["errors"],
            outbox_depth=health["outbox_depth"],
            oldest_unsent_age_s=health["oldest_unsent_age_s"],
            devices=devices,
        )
        try:
            self._append(data, None, None)
            self.publisher.wake()
        except OutboxFull:
            log.error("heartbeat skipped: the outbox is full")


def _mode_names() -> tuple[str, ...]:
    from warehouse_edge.config import MODES

    return MODES


def _describe(message: Message) -> str:
    if isinstance(message, contracts.MovementData):
        return (
            f"{message.kind} {message.qty} x {message.code} "
            f"{message.from_location or ''}->{message.to_location or ''}"
        )
    return f"scan {message.code}"
