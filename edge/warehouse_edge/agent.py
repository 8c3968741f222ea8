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

from warehouse import contracts, logs, pricing
from warehouse_drivers import (
    Driver,
    Read,
    RejectedRead,
    TagReport,
    create_driver,
    create_printer,
)
from warehouse_edge import __version__, faults
from warehouse_edge.config import MODES, AgentConfig, Device
from warehouse_edge.debounce import Debouncer
from warehouse_edge.health import Watchdog, serve_metrics
from warehouse_edge.outbox import Outbox, OutboxFull
from warehouse_edge.profiles import Message, StationState, interpret
from warehouse_edge.publisher import Publisher
from warehouse_edge.rfid import RfidStations
from warehouse_edge.supervisor import Supervisor
from warehouse_edge.till import PriceBooks, Till

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
        printers = {
            p.station: create_printer(p.driver, p.name, **p.params) for p in config.printers
        }
        self.books = PriceBooks(config)
        self.tills = {
            s.name: Till(config, s, self.outbox, printers.get(s.name))
            for s in config.stations
            if s.mode == "pos"
        }
        self.locally_rejected = 0
        self.metrics_port: int | None = None  # where /metrics is served, once running
        self._lock = threading.Lock()
        self.rfid = RfidStations(config, self._append, self.publisher.wake)

    @staticmethod
    def _driver(device: Device) -> Driver:
        return create_driver(device.driver, device.name, **device.params)

    # --- lifecycle -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set."""
        if self.tills:
            book = self.books.fetch() or self.books.load()
            if book is None:
                log.warning(
                    "no price book yet (none fetched from the API, none on disk): the registers "
                    "sell once the service sends one"
                )
            for till in self.tills.values():
                if book is not None:
                    till.use(book)
        self.publisher.start()
        for supervisor in self.supervisors.values():
            supervisor.start()
        metrics = None
        if self.config.metrics.port is not None:
            metrics = serve_metrics(self, self.config.metrics.host, self.config.metrics.port)
        self.metrics_port = metrics.server_port if metrics is not None else None
        watchdog = Watchdog(lambda: self.publisher.loop_at)
        presence = threading.Thread(
            target=self.rfid.run, args=(stop,), name="presence", daemon=True
        )
        presence.start()
        log.info(
            "agent %s at site %s: %d devices, %d stations, outbox %s",
            self.config.agent_id,
            self.config.site,
            len(self.supervisors),
            len(self.states),
            self.config.outbox.path,
        )
        watchdog.ready(f"{len(self.supervisors)} devices, outbox {self.config.outbox.path}")
        next_beat = time.monotonic() + self.config.heartbeat_s
        try:
            while not stop.wait(watchdog.interval_s):
                watchdog.tick()
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.config.heartbeat_s
                    if self.publisher.connected.is_set():
                        self._heartbeat()
        finally:
            watchdog.stopping()
            if metrics is not None:
                metrics.shutdown()
                metrics.server_close()
            for supervisor in self.supervisors.values():
                supervisor.stop()
            self.publisher.stop()
            self.outbox.close()
            log.info("agent stopped")

    # --- reads ---------------------------------------------------------------------------

    def handle(self, device: Device, item: Read | RejectedRead) -> None:
        """One read from a device (called on that device's thread)."""
        driver = self.supervisors[device.name].driver
        if isinstance(item, TagReport):
            if not self.rfid.read(device, item):
                with self._lock:
                    self.locally_rejected += 1
            return
        if isinstance(item, RejectedRead):
            self._reject(driver, device, f"{item.reason}: {item.detail}")
            return
        station = self.config.station(device.station)
        if len(item.data) > self.config.max_code_length:
            self._reject(driver, device, f"code of {len(item.data)} characters is too long")
            return
        till = self.tills.get(station.name)
        if till is not None:  # at a register a repeated scan is one more unit: no debounce
            self._ring(driver, device, till, item.data)
            return
        if not station.count_by_repeat and not self.debouncers[station.name].accept(
            device.name, item.data, time.monotonic()
        ):
            log.debug("device %s: repeat of %r suppressed", device.name, item.data)
            return
        with self._lock:  # station state is shared by the station's devices
            outcome = interpret(
                station, self.states[station.name], item.data, self.config.rcn_region
            )
        if outcome.level == "error":
            self._reject(driver, device, outcome.text)
            return
        if item.uid:  # an NFC tag: scans say which tag it was
            outcome.messages = [
                m.model_copy(update={"uid": item.uid}) if isinstance(m, contracts.ScanData) else m
                for m in outcome.messages
            ]
        try:
            for message in outcome.messages:
                seq = self._append(message, device.name, station.name)
                log.info(
                    "device %s: %s seq=%d",
                    device.name,
                    _describe(message),
                    seq,
                    extra=logs.ids(agent_id=self.config.agent_id, seq=seq),
                )
        except OutboxFull as exc:
            log.error("device %s: scan REFUSED, %s", device.name, exc)
            driver.feedback("error")
            return
        self.publisher.wake()
        driver.feedback(outcome.level)

    def _ring(self, driver: Driver, device: Device, till: Till, code: str) -> None:
        """A scan at a register: the basket changes, or a sale completes (stored, printed)."""
        try:
            outcome = till.read(code, device.name)
        except OutboxFull as exc:
            log.error("device %s: sale REFUSED, %s", device.name, exc)
            driver.feedback("error")
            return
        if outcome.level == "error":
            self._reject(driver, device, outcome.text)
            return
        log.info("register %s: %s", till.station.location, outcome.text)
        if outcome.completed is not None or outcome.action is not None:
            self.publisher.wake()
        driver.feedback(outcome.level)

    def _reject(self, driver: Driver, device: Device, why: str) -> None:
        with self._lock:
            self.locally_rejected += 1
        log.warning("device %s: read rejected: %s", device.name, why)
        driver.feedback("error")

    def _append(
        self,
        message: Message | contracts.HeartbeatData | contracts.ObservationData,
        device: str | None,
        station: str | None,
    ) -> int:
        event_id = uuid.uuid4()
        occurred_at = datetime.now(UTC) + faults.CLOCK_OFFSET
        cfg = self.config
        model: Any = {
            contracts.MovementData: contracts.MovementEvent,
            contracts.ScanData: contracts.ScanEvent,
            contracts.HeartbeatData: contracts.HeartbeatEvent,
            contracts.ObservationData: contracts.ObservationEvent,
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
        if isinstance(body, contracts.ResyncCommand):
            oldest = self.outbox.oldest_kept_seq()
            if oldest is None or oldest > body.from_seq:  # tell the service now, not in 30 s
                self._heartbeat()
        elif isinstance(body, contracts.FeedbackCommand):
            targets = [body.device] if body.device else list(self.supervisors)
            for name in targets:
                if name in self.supervisors:
                    self.supervisors[name].driver.feedback(body.level)
            log.info("feedback %s to %s: %s", body.level, ", ".join(targets), body.text)
        elif isinstance(body, contracts.PriceBookCommand):
            if body.site != self.config.site or not self.tills:
                return
            try:
                book = pricing.PriceBook.from_dict(body.book)
            except pricing.PricingError as exc:
                log.error("price_book command %s ignored: %s", body.version, exc)
                return
            self.books.replace(book)
            for till in self.tills.values():
                till.use(book)
        elif isinstance(body, contracts.StationModeCommand):
            state = self.states.get(body.station)
            if state is None or body.mode not in MODES:
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

    def uptime_s(self) -> float:
        return time.monotonic() - self.started

    def health(self) -> dict[str, Any]:
        """Everything an operator wants to know, for heartbeats and the CLI."""
        stats = self.outbox.stats()
        healths = [s.health for s in self.supervisors.values()]
        devices = {name: s.health.as_dict() for name, s in self.supervisors.items()}
        return {
            "uptime_s": round(self.uptime_s(), 1),
            "reads": sum(h.reads for h in healths),
            "errors": sum(h.errors + h.rejected for h in healths) + self.locally_rejected,
            "outbox_depth": stats.pending,
            "oldest_unsent_age_s": round(stats.oldest_pending_age_s or 0, 1),
            "devices": devices,
        }

    def _oldest_kept(self) -> int | None:
        """The lowest seq the outbox keeps, or the next one it will assign when it is empty."""
        oldest = self.outbox.oldest_kept_seq()
        return oldest if oldest is not None else self.outbox.stats().last_seq + 1

    def _placement(self, device: str) -> dict[str, str]:
        """Where a device works, for the service's devices page: its station, and at a
        register the version of the price book the till prices with."""
        station = self.devices[device].station
        where = {"station": station}
        book = self.books.book
        if station in self.tills and book is not None:
            where["price_book"] = book.version
        return where

    def _heartbeat(self) -> None:
        health = self.health()
        devices = {
            name: {
                k: v
                for k, v in d.items()
                if k in ("state", "reads", "errors", "reconnects", "last_error")
            }
            | self._placement(name)
            for name, d in health["devices"].items()
        }
        data = contracts.HeartbeatData(
            uptime_s=health["uptime_s"],
            reads=health["reads"],
            errors=health["errors"],
            outbox_depth=health["outbox_depth"],
            oldest_unsent_age_s=health["oldest_unsent_age_s"],
            devices=devices,
            oldest_kept_seq=self._oldest_kept(),
        )
        try:
            self._append(data, None, None)
            self.publisher.wake()
        except OutboxFull:
            log.error("heartbeat skipped: the outbox is full")


def _describe(message: Message) -> str:
    if isinstance(message, contracts.MovementData):
        return (
            f"{message.kind} {message.qty} x {message.code} "
            f"{message.from_location or ''}->{message.to_location or ''}"
        )
    return f"scan {message.code}"
