"""Presence aggregation on simulated RFID streams."""

from __future__ import annotations

import random

from warehouse_edge.presence import Presence, PresenceAggregator, PresenceRules, TagRead

RULES = PresenceRules(k=3, window_s=2.0, min_rssi=-70, absence_s=5.0, margin_db=6, dwell_s=2.0)


def run(reads: list[TagRead], until: float, rules: PresenceRules = RULES) -> list[Presence]:
    aggregator = PresenceAggregator(rules)
    out: list[Presence] = []
    reads = sorted(reads, key=lambda r: r.at)
    now, step = 0.0, 0.2
    index = 0
    while now <= until:
        while index < len(reads) and reads[index].at <= now:
            out += aggregator.read(reads[index])
            index += 1
        out += aggregator.tick(now)
        now = round(now + step, 6)
    return out


def kinds(events: list[Presence]) -> list[tuple[str, str, str]]:
    return [(e.kind, e.epc, e.zone) for e in events]


def test_a_pallet_passing_a_dock_door() -> None:
    rng = random.Random(1)
    tags = [f"E{n:03d}" for n in range(40)]
    reads = [
        TagRead(tag, "dock-1", rng.uniform(-62, -45), 10 + rng.uniform(0, 3), antenna=1)
        for tag in tags
        for _ in range(rng.randint(4, 12))
    ]
    events = run(reads, until=30)
    assert sorted(kinds([e for e in events if e.kind == "arrival"])) == sorted(
        ("arrival", t, "dock-1") for t in tags
    )
    assert sorted(kinds([e for e in events if e.kind == "departure"])) == sorted(
        ("departure", t, "dock-1") for t in tags
    )
    for left in (e for e in events if e.kind == "departure"):
        assert RULES.absence_s < left.at - left.last_seen <= RULES.absence_s + 0.2 + 1e-6


def test_flickering_shelf_tags_arrive_once_and_stay() -> None:
    rng = random.Random(2)
    reads = []
    for tag in ("S1", "S2", "S3"):
        t = 1.0
        while t < 60:
            reads += [TagRead(tag, "shelf-A", rng.uniform(-68, -55), t + i * 0.1) for i in range(3)]
            t += rng.uniform(0.5, 4.5)  # gaps shorter than the absence timeout
    events = run(reads, until=60)
    assert sorted(kinds(events)) == [("arrival", t, "shelf-A") for t in ("S1", "S2", "S3")]


def test_weak_and_stray_reads_never_arrive() -> None:
    reads = [TagRead("WEAK", "dock-1", -80, t / 10) for t in range(100)]  # below threshold
    reads += [TagRead("STRAY", "dock-1", -50, 5.0), TagRead("STRAY", "dock-1", -50, 9.0)]
    reads += [TagRead("SLOW", "dock-1", -50, t * 3.0) for t in range(10)]  # never k within W
    assert run(reads, until=40) == []


def test_a_tag_moving_between_zones_changes_once_after_dwell() -> None:
    reads = [TagRead("M1", "zone-A", -50, t / 5) for t in range(0, 50)]  # 0..10 s in A
    reads += [TagRead("M1", "zone-A", -66, 10 + t / 5) for t in range(0, 50)]  # fading in A
    reads += [TagRead("M1", "zone-B", -48, 10 + t / 5) for t in range(0, 50)]  # strong in B
    events = run(reads, until=30)
    assert kinds(events) == [
        ("arrival", "M1", "zone-A"),
        ("departure", "M1", "zone-A"),
        ("arrival", "M1", "zone-B"),
        ("departure", "M1", "zone-B"),
    ]
    change = events[1].at
    assert 10 + RULES.dwell_s <= change <= 10 + RULES.dwell_s + 1.5


def test_a_neighbouring_zone_within_the_margin_never_steals_the_tag() -> None:
    reads = [TagRead("N1", "zone-A", -55, t / 5) for t in range(0, 100)]
    reads += [TagRead("N1", "zone-B", -52, t / 5 + 0.05) for t in range(0, 100)]  # only 3 dB
    events = run(reads, until=30)
    assert kinds(events) == [("arrival", "N1", "zone-A"), ("departure", "N1", "zone-A")]


def test_snapshot_is_the_set_present_per_zone() -> None:
    aggregator = PresenceAggregator(RULES)
    for tag, zone in (("A", "z1"), ("B", "z1"), ("C", "z2")):
        for i in range(3):
            aggregator.read(TagRead(tag, zone, -50, 1 + i / 10))
    assert aggregator.snapshot() == {"z1": {"A", "B"}, "z2": {"C"}}
