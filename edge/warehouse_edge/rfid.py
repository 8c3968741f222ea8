"""The agent's RFID stations: tag reads aggregated per station into arrivals and departures per
zone (presence.py), and, at counting stations, a sweep of everything seen now and then; each
sent as an ``observation`` event, never one message per read."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from warehouse import contracts
from warehouse_drivers import DecodeError, TagReport, decode_epc
from warehouse_edge.config import AgentConfig, Device
from warehouse_edge.outbox import OutboxFull
from warehouse_edge.presence import Presence, PresenceAggregator, PresenceRules, TagRead

log = logging.getLogger(__name__)

#: Stores an observation in the outbox: (data, device, station) -> its seq.
Append = Callable[[contracts.ObservationData, str | None, str | None], int]


class RfidStations:
    """Presence per station, fed by the readers' threads and sent by :meth:`run`."""

    def __init__(self, config: AgentConfig, append: Append, wake: Callable[[], None]) -> None:
        self.config = config
        self._append = append
        self._wake = wake
        self._lock = threading.Lock()
        self.presence = {
            s.name: PresenceAggregator(
                PresenceRules(
                    k=s.presence_k,
                    window_s=s.presence_window_s,
                    min_rssi=s.presence_min_rssi,
                    absence_s=s.presence_absence_s,
                    margin_db=s.presence_margin_db,
                    dwell_s=s.presence_dwell_s,
                )
            )
            for s in config.stations
        }
        self._changes: dict[str, list[Presence]] = {s.name: [] for s in config.stations}
        self._zones = {
            s.name: {s.location}
            | {z for d in config.devices if d.station == s.name for z in d.zones.values()}
            for s in config.stations
        }

    def read(self, device: Device, report: TagReport) -> bool:
        """An RFID read into its station's aggregation; False for a tag that is no EPC."""
        try:
            epc = decode_epc(report.epc).hex
        except DecodeError as exc:
            log.debug("device %s: tag %r rejected: %s", device.name, report.epc, exc)
            return False
        zone = device.zones.get(str(report.antenna)) or self.config.station(device.station).location
        read = TagRead(epc, zone, report.rssi, report.at, report.antenna)
        with self._lock:
            self._changes[device.station] += self.presence[device.station].read(read)
        return True

    def run(self, stop: threading.Event) -> None:
        """Departures on time, arrivals batched per zone, sweeps at counting stations."""
        next_sweep = {s.name: time.time() + s.sweep_interval_s for s in self.config.stations}
        while not stop.wait(0.25):
            now = time.time()
            for station in self.config.stations:
                with self._lock:
                    changes = self._changes[station.name] + self.presence[station.name].tick(now)
                    self._changes[station.name] = []
                    sweep = None
                    if station.mode == "counting" and now >= next_sweep[station.name]:
                        next_sweep[station.name] = now + station.sweep_interval_s
                        sweep = self.presence[station.name].snapshot()
                try:
                    self._send(station.name, changes, sweep)
                except OutboxFull as exc:
                    log.error("station %s: RFID observations REFUSED, %s", station.name, exc)

    def _send(
        self, station: str, changes: list[Presence], sweep: dict[str, set[str]] | None
    ) -> None:
        by_zone: dict[str, dict[str, list[contracts.TagSeen]]] = {}
        for change in changes:
            seen = contracts.TagSeen(
                epc=change.epc,
                antenna=change.antenna,
                rssi=change.peak_rssi,
                reads=change.reads,
                first_seen=datetime.fromtimestamp(change.first_seen, UTC),
                last_seen=datetime.fromtimestamp(change.last_seen, UTC),
            )
            lists = by_zone.setdefault(change.zone, {"arrivals": [], "departures": []})
            lists["arrivals" if change.kind == "arrival" else "departures"].append(seen)
        for zone, lists in by_zone.items():
            self._append(
                contracts.ObservationData(zone=zone, location=zone, **lists), None, station
            )
        if sweep is not None:
            for zone in sorted(self._zones[station] | set(sweep)):
                tags = [contracts.TagSeen(epc=epc) for epc in sorted(sweep.get(zone, set()))]
                self._append(
                    contracts.ObservationData(zone=zone, location=zone, snapshot=tags),
                    None,
                    station,
                )
        if by_zone or sweep is not None:
            self._wake()
