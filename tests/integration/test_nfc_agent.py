"""NFC end to end: an emulated Type 3 tag (nfcpy udp) -> agent -> Mosquitto -> ingest -> ledger."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.edge.nfc_tags import EmulatedTag, free_udp_port, text_message, uri_message
from tests.helpers import wait_for
from warehouse.bootstrap import Service
from warehouse.stock.adapters import movement_queries, tables
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig

pytestmark = pytest.mark.mosquitto


def movements(service: Service) -> list[dict[str, object]]:
    """The ledger, oldest first, as the API lists it (the fields this test checks)."""
    with service.engine.connect() as conn:
        page = movement_queries.movements(conn, limit=10)
    return [
        {
            "kind": m["kind"],
            "sku": m["sku"],
            "serial": m["serial"],
            "code": m["code"],
            "src": m["from_location"],
            "dst": m["to_location"],
        }
        for m in reversed(page.items)
    ]


def test_a_digital_link_tag_reaches_the_ledger_with_gtin_and_serial(
    seeded: Service, ingest: object, site: str, tmp_path: Path
) -> None:
    port = free_udp_port()
    config = AgentConfig(
        agent_id="nfc-bench-1",
        site=site,
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1883"},
        outbox={"path": tmp_path / "outbox.db"},
        stations=[{"name": "putaway", "mode": "putaway", "location": "WH1-DOCK-1"}],
        devices=[
            {
                "name": "nfc-1",
                "driver": "nfc",
                "station": "putaway",
                "params": {"path": f"udp:127.0.0.1:{port}", "targets": ["212F"]},
            }
        ],
    )
    agent = Agent(config)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert agent.publisher.connected.wait(10)
        # a bin tag sets where the next item goes, then the item's own tag is read
        with EmulatedTag(port, "02FE0000000051A1", text_message("LOC:WH1-A-01")):
            wait_for(lambda: agent.states["putaway"].location == "WH1-A-01")
        uri = "https://id.gs1.org/01/05901230001254/21/HDP-7731"
        with EmulatedTag(port, "02FE0000000051A2", uri_message(uri)):
            wait_for(lambda: len(movements(seeded)) == 1)
    finally:
        stop.set()
        thread.join(15)
    (movement,) = movements(seeded)
    assert movement == {
        "kind": "transfer",
        "sku": "HDP-BT",  # found by the GTIN in the Digital Link
        "serial": "HDP-7731",
        "code": uri,
        "src": "WH1-DOCK-1",
        "dst": "WH1-A-01",
    }
    with seeded.engine.connect() as conn:
        unit = conn.execute(
            select(tables.serial_units.c.serial, tables.locations.c.code).join(
                tables.locations, tables.locations.c.id == tables.serial_units.c.location_id
            )
        ).one()
    assert tuple(unit) == ("HDP-7731", "WH1-A-01")
