"""Through the real Mosquitto: any MQTT client, duplicates, concurrency, garbage."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import ResendingPublisher, events_topic, movement_payload, wait_for
from warehouse.bootstrap import Service
from warehouse.ingest.adapters import queries
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.stock.adapters import stock_queries
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.projection import differences

pytestmark = pytest.mark.mosquitto
DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md"


def dock_stock(service: Service) -> Decimal:
    with service.engine.connect() as conn:
        return stock_queries.stock_for_sku(conn, "COF-250")["on_hand"]  # type: ignore[no-any-return]


def inbox_count(service: Service) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ingest_tables.inbox)).scalar_one())


def documented_movement() -> dict[str, object]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return next(d for d in map(json.loads, blocks) if d.get("type") == "movement")


def mosquitto_pub(host: str, port: int, topic: str, payload: bytes) -> None:
    subprocess.run(
        ["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-s"],
        input=payload,
        check=True,
        timeout=10,
    )


def test_the_documented_movement_from_mosquitto_pub(
    seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    example = documented_movement()
    example.update(site=site, event_id=str(uuid.uuid4()))  # our own site: no collisions
    payload = json.dumps(example).encode()
    topic = events_topic(site, str(example["agent_id"]))
    before = dock_stock(seeded)
    mosquitto_pub(*mosquitto, topic, payload)
    wait_for(lambda: inbox_count(seeded) == 1)
    qty = Decimal(str(example["data"]["qty"]))  # type: ignore[index]
    assert dock_stock(seeded) == before + qty
    for _ in range(5):
        mosquitto_pub(*mosquitto, topic, payload)
    # a re-send that finds its twin still waiting in the worker's buffer collapses into it
    wait_for(lambda: ingest.totals.duplicates + ingest.buffer.collapsed >= 5)  # type: ignore[attr-defined]
    assert dock_stock(seeded) == before + qty
    with seeded.engine.connect() as conn:
        (agent,) = queries.agents(conn, registered_only=False)
    assert (agent["acked_seq"], agent["site"]) == (1, site)


@pytest.mark.parametrize(
    "ingest",
    [{"ingest_threads": 1}, {"ingest_threads": 2}],
    indirect=True,
    ids=["1-thread", "2-threads"],
)
def test_four_concurrent_publishers_leave_a_consistent_projection(
    seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    """With two batch threads, batches commit out of order: acks and gaps still come out right."""
    per_agent = 250
    moves = [
        ("receive", {}),
        ("transfer", {"from_location": "WH1-DOCK-1", "to_location": "WH1-A-01"}),
        ("pick", {"from_location": "WH1-A-01", "to_location": "WH1-PACK"}),
        ("ship", {"from_location": "WH1-PACK", "to_location": None}),
    ]

    def publish_all(agent: str, ok: list[bool]) -> None:
        pub = ResendingPublisher(*mosquitto, site, agent)
        try:
            for seq in range(1, per_agent + 1):
                kind, extra = moves[seq % 4]
                pub.publish(
                    seq, movement_payload(site, agent, seq, kind=kind, qty=seq % 5 + 1, **extra)
                )
            ok.append(pub.wait_all_acked(per_agent, timeout=60))
        finally:
            pub.close()

    results: list[bool] = []
    threads = [threading.Thread(target=publish_all, args=(f"agent-{i}", results)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert results == [True] * 4
    with seeded.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(stock_tables.movements)).scalar_one()
            == 1000
        )
        assert differences(conn) == {}
        agents = queries.agents(conn, registered_only=False)
    assert [(a["acked_seq"], a["gaps"]) for a in agents] == [(per_agent, [])] * 4


def test_garbage_is_rejected_with_reasons_and_the_worker_keeps_going(
    seeded: Service, ingest: object, site: str, mosquitto: tuple[str, int]
) -> None:
    topic = events_topic(site, "dock-9")
    good = json.loads(movement_payload(site, "dock-9", 1))
    wrong_types = {
        **good,
        "event_id": str(uuid.uuid4()),
        "seq": "seven",
        "data": {**good["data"], "qty": "many"},
    }
    missing = {k: v for k, v in good.items() if k not in ("occurred_at", "data")}
    missing["event_id"] = str(uuid.uuid4())
    unknown = json.loads(movement_payload(site, "dock-9", 2, code="4006381333931"))
    garbage = [
        b"\x00\x01binary\xff",
        b"hello",
        json.dumps(wrong_types).encode(),
        json.dumps(missing).encode(),
        b'{"pad": "' + b"x" * (1024 * 1024) + b'"}',
        json.dumps(unknown).encode(),
    ]
    for payload in garbage:
        mosquitto_pub(*mosquitto, topic, payload)
    mosquitto_pub(*mosquitto, topic, json.dumps(good).encode())
    wait_for(
        lambda: ingest.totals.applied == 1 and ingest.totals.rejected == 6,  # type: ignore[attr-defined]
        timeout=20,
    )
    with seeded.engine.connect() as conn:
        rows = queries.rejected_events(
            conn, reason=None, agent_id=None, limit=50, cursor=None
        ).items
    reasons = sorted(r["reason"] for r in rows)
    assert reasons == sorted(
        [
            "not_utf8",
            "not_json",
            "invalid_message",
            "invalid_message",
            "payload_too_large",
            "unknown_product",
        ]
    )
    details = " | ".join(r["detail"] for r in rows)
    for words in (
        "field 'seq'",
        "field 'data.qty'",
        "field 'occurred_at': required",
        "'4006381333931'",
        "1048587 bytes",
    ):
        assert words in details
    assert dock_stock(seeded) == 1


def test_the_ingest_health_endpoint(ingest: object) -> None:
    import urllib.error
    import urllib.request

    from warehouse.core.health_http import HealthServer

    worker: Any = ingest
    server = HealthServer("127.0.0.1", 0, worker.readiness)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
            assert json.load(answer) == {
                "ready": True,
                "database": "ok",
                "schema": "ok",
                "broker": "connected",
            }
        worker.connected.clear()  # as when the broker is lost
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
        assert refused.value.code == 503
        assert json.load(refused.value)["broker"] == "not connected"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as alive:
            assert json.load(alive) == {"status": "ok"}
    finally:
        server.stop()
