"""RFID through the agent: tag reports -> presence -> observation events in the outbox."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from tests.helpers import wait_for
from warehouse_drivers.virtual import VirtualTagReader
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

TAGS = ["3035682EB8001F4000001267", "3035682EB8001F4000001268"]


def observations(outbox: Path) -> list[dict[str, object]]:
    with sqlite3.connect(outbox) as db:
        payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
    return [p["data"] for p in payloads if p["type"] == "observation"]


def run_agent(tmp_path: Path, mode: str) -> tuple[Agent, VirtualTagReader, threading.Event]:
    config = AgentConfig(
        agent_id="door-2",
        site="WH1",
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1"},  # nothing listens: events stay in the outbox
        outbox={"path": tmp_path / "outbox.db"},
        stations=[
            {
                "name": "door",
                "mode": mode,
                "location": "WH1-DOCK-2",
                "presence_k": 3,
                "presence_window_s": 2,
                "presence_absence_s": 0.6,
                "sweep_interval_s": 0.5,
            }
        ],
        devices=[
            {
                "name": "reader-1",
                "driver": "virtual-rfid",
                "station": "door",
                "zones": {"1": "WH1-DOCK-2", "2": "WH1-STAGING"},
            }
        ],
    )
    reader = VirtualTagReader("reader-1")
    agent = Agent(config, drivers={"reader-1": reader})
    stop = threading.Event()
    threading.Thread(target=agent.run, args=(stop,), daemon=True).start()
    return agent, reader, stop


def test_a_pallet_through_a_door_is_one_arrival_and_one_departure_message(tmp_path: Path) -> None:
    agent, reader, stop = run_agent(tmp_path, "receiving")
    try:
        for _ in range(5):
            for epc in TAGS:
                reader.inject_tag(epc, antenna=1, rssi=-52)
        reader.inject_tag("3074257BF7", antenna=1)  # a garbled EPC is dropped, not sent
        reader.inject_tag(TAGS[0], antenna=2, rssi=-90)  # too weak to count
        wait_for(lambda: len(observations(tmp_path / "outbox.db")) >= 2)
    finally:
        stop.set()
    arrivals, departures = observations(tmp_path / "outbox.db")[:2]
    assert arrivals["zone"] == "WH1-DOCK-2"
    assert sorted(t["epc"] for t in arrivals["arrivals"]) == TAGS  # type: ignore[union-attr]
    assert all(t["reads"] >= 3 for t in arrivals["arrivals"])  # type: ignore[union-attr]
    assert sorted(t["epc"] for t in departures["departures"]) == TAGS  # type: ignore[union-attr]
    assert agent.locally_rejected == 1


def test_a_counting_station_sends_sweeps_per_zone(tmp_path: Path) -> None:
    _, reader, stop = run_agent(tmp_path, "counting")
    try:

        def swept() -> bool:
            # the tag sits in the zone, so the reader keeps reporting it, as a real one would;
            # a slow start must not let it count as gone before the first sweep
            for _ in range(4):
                reader.inject_tag(TAGS[0], antenna=2, rssi=-50)
            return any(o.get("snapshot") for o in observations(tmp_path / "outbox.db"))

        wait_for(swept)
    finally:
        stop.set()
    sweeps = [o for o in observations(tmp_path / "outbox.db") if "snapshot" in o]
    latest = {o["zone"]: [t["epc"] for t in o["snapshot"]] for o in sweeps}  # type: ignore[union-attr]
    assert latest["WH1-STAGING"] == [TAGS[0]]
    assert latest["WH1-DOCK-2"] == []  # the other zone of the station: nothing there


def test_an_llrp_reader_feeds_presence_and_the_agent_survives_corrupt_messages(
    tmp_path: Path,
) -> None:
    from tests.data.llrp.make_recordings import PALLET
    from tests.edge.llrp_fake import FakeReader, recording

    fake = FakeReader(recording("corrupt-message.bin"), chunks=(5, 13, 200))
    config = AgentConfig(
        agent_id="door-3",
        site="WH1",
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1"},
        outbox={"path": tmp_path / "outbox.db"},
        stations=[
            {
                "name": "door",
                "mode": "receiving",
                "location": "WH1-DOCK-2",
                "presence_k": 2,
                "presence_absence_s": 0.5,
            }
        ],
        devices=[
            {
                "name": "reader-1",
                "driver": "llrp",
                "station": "door",
                "zones": {"1": "WH1-DOCK-2"},
                "params": {"host": "127.0.0.1", "port": fake.port, "antennas": [1]},
            }
        ],
    )
    agent = Agent(config)
    stop = threading.Event()
    threading.Thread(target=agent.run, args=(stop,), daemon=True).start()
    try:
        wait_for(lambda: len(observations(tmp_path / "outbox.db")) >= 2)
        health = agent.health()["devices"]["reader-1"]
    finally:
        stop.set()
        fake.close()
    arrivals, departures = observations(tmp_path / "outbox.db")[:2]
    assert sorted(t["epc"] for t in arrivals["arrivals"]) == sorted(PALLET)  # type: ignore[union-attr]
    assert all(t["antenna"] == 1 and t["rssi"] == -50 for t in arrivals["arrivals"])  # type: ignore[union-attr]
    assert sorted(t["epc"] for t in departures["departures"]) == sorted(PALLET)  # type: ignore[union-attr]
    assert (health["state"], health["rejected"], health["outages"]) == ("up", 3, 0)
    assert fake.connections == 1
