"""RFID presence aggregation (pure): raw tag reads in, arrivals and departures out.

Per EPC and zone:

* **arrival** after ``k`` reads within ``window_s`` seconds at or above ``min_rssi``;
* **departure** after ``absence_s`` seconds without such a read;
* **zone change** only when the new zone's smoothed RSSI beats the current zone's by
  ``margin_db`` continuously for ``dwell_s`` (a departure from the old zone and an arrival in
  the new one) — so a tag on a shelf next to the dock door does not flicker between them.

Raw reads are never forwarded one by one. The work per read is a few dict operations, and
``tick()`` looks only at tags that are present, so thousands of reads a second are cheap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class TagRead:
    """One report of one tag by one antenna."""

    epc: str
    zone: str
    rssi: float
    at: float  # seconds, monotonic or wall, as long as it is one clock
    antenna: int | None = None


@dataclass(frozen=True, slots=True)
class Presence:
    """An arrival or departure, with what the reads said."""

    kind: Literal["arrival", "departure"]
    epc: str
    zone: str
    at: float
    first_seen: float
    last_seen: float
    reads: int
    peak_rssi: float
    antenna: int | None = None


@dataclass(frozen=True, slots=True)
class PresenceRules:
    """The thresholds of one station."""

    k: int = 3
    window_s: float = 2.0
    min_rssi: float = -70.0
    absence_s: float = 5.0
    margin_db: float = 6.0
    dwell_s: float = 2.0
    smoothing: float = 0.3  # weight of a new read in the per-zone RSSI average


@dataclass(slots=True)
class _Zone:
    recent: deque[float] = field(default_factory=deque)
    rssi: float = -200.0
    first_seen: float = 0.0
    last_seen: float = 0.0
    reads: int = 0
    peak: float = -200.0
    antenna: int | None = None


@dataclass(slots=True)
class _Tag:
    zones: dict[str, _Zone] = field(default_factory=dict)
    present: str | None = None
    challenger: str | None = None
    challenger_since: float = 0.0


class PresenceAggregator:
    """Turns a stream of reads into presence changes for one station."""

    def __init__(self, rules: PresenceRules | None = None) -> None:
        self.rules = rules or PresenceRules()
        self._tags: dict[str, _Tag] = {}
        self._present: set[str] = set()

    def read(self, read: TagRead) -> list[Presence]:
        """Feed one read; return the presence changes it causes (usually none)."""
        rules = self.rules
        if read.rssi < rules.min_rssi:
            return []
        tag = self._tags.get(read.epc)
        if tag is None:
            tag = self._tags[read.epc] = _Tag()
        zone = tag.zones.get(read.zone)
        if zone is None:
            zone = tag.zones[read.zone] = _Zone(first_seen=read.at)
        zone.recent.append(read.at)
        while zone.recent and read.at - zone.recent[0] > rules.window_s:
            zone.recent.popleft()
        if zone.reads == 0 or read.at - zone.last_seen > rules.absence_s:
            zone.first_seen, zone.reads, zone.peak = read.at, 0, -200.0
            zone.rssi = read.rssi
        else:
            zone.rssi += rules.smoothing * (read.rssi - zone.rssi)
        zone.last_seen, zone.reads = read.at, zone.reads + 1
        zone.peak, zone.antenna = max(zone.peak, read.rssi), read.antenna
        if tag.present is None:
            if len(zone.recent) >= rules.k:
                return [self._arrive(read.epc, tag, read.zone, read.at)]
            return []
        if read.zone == tag.present:
            return []
        return self._challenge(read.epc, tag, read.zone, read.at)

    def _challenge(self, epc: str, tag: _Tag, zone_name: str, now: float) -> list[Presence]:
        assert tag.present is not None
        current = tag.zones[tag.present]
        challenger = tag.zones[zone_name]
        stronger = (
            challenger.rssi >= current.rssi + self.rules.margin_db
            and len(challenger.recent) >= self.rules.k
        )
        if not stronger:
            if tag.challenger == zone_name:
                tag.challenger = None
            return []
        if tag.challenger != zone_name:
            tag.challenger, tag.challenger_since = zone_name, now
            return []
        if now - tag.challenger_since < self.rules.dwell_s:
            return []
        return [self._depart(epc, tag, now), self._arrive(epc, tag, zone_name, now)]

    def tick(self, now: float) -> list[Presence]:
        """Departures of tags not read for ``absence_s``; call it a few times a second."""
        out = []
        for epc in list(self._present):
            tag = self._tags[epc]
            assert tag.present is not None
            if now - tag.zones[tag.present].last_seen > self.rules.absence_s:
                out.append(self._depart(epc, tag, now))
                del self._tags[epc]  # forget it: memory stays bounded by what is present
        if len(self._tags) > 4 * len(self._present) + 10_000:
            horizon = now - self.rules.window_s
            self._tags = {
                e: t
                for e, t in self._tags.items()
                if t.present or max(z.last_seen for z in t.zones.values()) > horizon
            }
        return out

    def snapshot(self) -> dict[str, set[str]]:
        """The tags present now, per zone (a counting station's sweep)."""
        zones: dict[str, set[str]] = {}
        for epc in self._present:
            present = self._tags[epc].present
            assert present is not None
            zones.setdefault(present, set()).add(epc)
        return zones

    def _arrive(self, epc: str, tag: _Tag, zone_name: str, now: float) -> Presence:
        zone = tag.zones[zone_name]
        tag.present, tag.challenger = zone_name, None
        self._present.add(epc)
        return Presence(
            "arrival",
            epc,
            zone_name,
            now,
            zone.first_seen,
            zone.last_seen,
            zone.reads,
            zone.peak,
            zone.antenna,
        )

    def _depart(self, epc: str, tag: _Tag, now: float) -> Presence:
        assert tag.present is not None
        zone = tag.zones[tag.present]
        left = Presence(
            "departure",
            epc,
            tag.present,
            now,
            zone.first_seen,
            zone.last_seen,
            zone.reads,
            zone.peak,
            zone.antenna,
        )
        tag.present = None
        self._present.discard(epc)
        return left
