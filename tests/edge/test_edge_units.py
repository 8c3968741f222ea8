"""Edge logic without a broker: profiles, debounce, outbox, config."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from warehouse import contracts
from warehouse_edge.config import AgentConfig, ConfigError, Station, load_config
from warehouse_edge.debounce import Debouncer
from warehouse_edge.outbox import Outbox, OutboxFull
from warehouse_edge.profiles import StationState, interpret

LOT_CODE = "]C1010590123000100110L1"


def run(station: Station, codes: list[str]) -> list[tuple[str, str, list[dict[str, object]]]]:
    state = StationState(station.mode)
    out = []
    for code in codes:
        outcome = interpret(station, state, code)
        out.append(
            (
                outcome.level,
                outcome.text,
                [m.model_dump(exclude_none=True, mode="json") for m in outcome.messages],
            )
        )
    return out


def test_receiving_at_a_dock_with_a_purchase_order() -> None:
    dock = Station(name="d", mode="receiving", location="WH1-DOCK-1")
    results = run(dock, ["PO-77", "QTY:12", LOT_CODE, "5901230001025"])
    assert results[2][2] == [
        {
            "kind": "receive",
            "code": LOT_CODE,
            "gtin": "05901230001001",
            "lot": "L1",
            "qty": "12",
            "to_location": "WH1-DOCK-1",
            "order_ref": "PO-77",
        }
    ]
    assert results[3][2][0]["qty"] == "1"  # QTY: applies to the next item only


def test_picking_needs_an_order_and_a_location() -> None:
    station = Station(name="p", mode="picking", location="WH1-PACK")
    results = run(station, [LOT_CODE, "SO-1", LOT_CODE, "LOC:WH1-A-01", LOT_CODE])
    assert [r[0] for r in results] == ["error", "ok", "error", "ok", "ok"]
    assert results[0][1] == "scan the order or pick list first"
    (pick,) = results[4][2]
    assert (pick["kind"], pick["from_location"], pick["to_location"], pick["order_ref"]) == (
        "pick",
        "WH1-A-01",
        "WH1-PACK",
        "SO-1",
    )


def test_picking_from_a_configured_location() -> None:
    station = Station(name="p", mode="picking", location="WH1-PACK", pick_from="WH1-A-02")
    (pick,) = run(station, ["PL-9", LOT_CODE])[1][2]
    assert pick["from_location"] == "WH1-A-02"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("putaway", {"kind": "transfer", "from_location": "WH1-DOCK-1", "to_location": "WH1-B-03"}),
        ("shipping", {"kind": "ship", "from_location": "WH1-DOCK-1", "order_ref": "SO-5"}),
        ("pos", {"kind": "sale", "from_location": "WH1-DOCK-1"}),
    ],
)
def test_movement_modes(mode: str, expected: dict[str, object]) -> None:
    station = Station(name="s", mode=mode, location="WH1-DOCK-1")  # type: ignore[arg-type]
    (*_, (level, _, [message])) = run(station, ["SO-5", "LOC:WH1-B-03", LOT_CODE])
    assert level == "ok"
    assert {k: message.get(k) for k in expected} == expected


@pytest.mark.parametrize("mode", ["counting", "lookup", "packing"])
def test_scan_modes(mode: str) -> None:
    station = Station(name="s", mode=mode, location="WH1-A-01")  # type: ignore[arg-type]
    (_, _, [scan]) = run(station, [LOT_CODE])[0]
    assert scan["code"] == LOT_CODE
    assert scan["gtin"] == "05901230001001"
    assert scan.get("location") == (None if mode == "lookup" else "WH1-A-01")


def test_a_packing_station_scans_items_for_the_order_it_scanned() -> None:
    station = Station(name="s", mode="packing", location="WH1-PACK")  # type: ignore[arg-type]
    (*_, (_, _, [scan])) = run(station, ["SO-5", LOT_CODE])
    assert (scan["order_ref"], scan["location"]) == ("SO-5", "WH1-PACK")


def test_bad_reads_and_labels_are_refused_with_a_reason() -> None:
    station = Station(name="s", mode="receiving", location="D")
    results = run(
        station, ["5901230001002", "]C1010590123000100110ABC17261231", "QTY:-1", "QTY:abc", "LOC:"]
    )
    assert [r[0] for r in results] == ["error"] * 5
    assert "missing" in results[1][1]
    assert all(r[2] == [] for r in results)


def test_debounce_window_slides_per_device_and_code() -> None:
    d = Debouncer(0.5)
    assert d.accept("s1", "A", 0.0)
    assert not d.accept("s1", "A", 0.3)
    assert not d.accept("s1", "A", 0.7)  # still held on the label: the window slides
    assert d.accept("s1", "A", 1.3)
    assert d.accept("s2", "A", 1.3)
    assert d.accept("s1", "B", 1.31)


def render(seq: int) -> tuple[str, str, bytes]:
    return f"e{seq}", "t", b"x" * 200


def test_outbox_seqs_are_contiguous_across_threads_and_restarts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", budget_bytes=50_000_000)
    seqs: list[int] = []

    def append() -> None:
        for _ in range(100):
            seqs.append(box.append(render))

    threads = [threading.Thread(target=append) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 401))
    box.ack(400)
    box.close()
    box = Outbox(tmp_path / "o.db", budget_bytes=50_000_000)
    assert box.append(render) == 401  # never reset, even with everything acked
    box.close()


def test_outbox_acks_resync_and_stats(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", budget_bytes=50_000_000)
    for _ in range(10):
        box.append(render)
    assert [p.seq for p in box.pending(0, 3)] == [1, 2, 3]
    assert box.ack(6) == 6
    assert [p.seq for p in box.pending(0, 100)] == [7, 8, 9, 10]
    assert box.stats().pending == 4
    assert box.stats().last_acked_seq == 6
    assert box.resync(5) == 2
    assert [p.seq for p in box.pending(0, 100)] == [5, 6, 7, 8, 9, 10]
    box.close()


def fill_until_refused(box: Outbox, at_most: int) -> tuple[int, OutboxFull | None]:
    """Append 2 kB events until the outbox refuses one: (how many it stored, the refusal)."""
    for stored in range(at_most):
        try:
            box.append(lambda seq: (f"e{seq}", "t", b"x" * 2000))
        except OutboxFull as exc:
            return stored, exc
    return at_most, None


def test_outbox_refuses_past_its_budget_and_keeps_what_it_has(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", budget_bytes=40_000)
    stored, refusal = fill_until_refused(box, 1000)
    assert refusal is not None
    assert "disk budget" in str(refusal)
    assert 0 < stored < 1000
    assert box.stats().pending == stored
    box.close()


def test_a_full_disk_refuses_appends_keeps_the_rest_and_recovers(tmp_path: Path) -> None:
    """SQLite's SQLITE_FULL (here from max_page_count, as a full disk gives it) refuses the
    read instead of escaping the writer, and stored events stay pending until acked."""
    box = Outbox(tmp_path / "o.db", budget_bytes=50_000_000)
    for _ in range(5):
        box.append(render)
    pages = box._db.execute("PRAGMA page_count").fetchone()[0]
    box._db.execute(f"PRAGMA max_page_count = {pages}")
    _, refusal = fill_until_refused(box, 200)
    assert refusal is not None
    assert "cannot write outbox" in str(refusal)
    assert "full" in str(refusal)
    assert box.refused == 1
    assert box.ack(5) == 5  # an update in place needs no new page
    stats = box.stats()
    assert stats.pending == stats.last_seq - 5  # everything stored is still there to send
    box._db.execute(f"PRAGMA max_page_count = {pages * 100}")
    seq = box.append(render)
    assert seq == box.stats().last_seq
    box.close()


def test_outbox_survives_a_killed_process(tmp_path: Path) -> None:
    """A committed append is on disk: a new connection sees it without any close()."""
    box = Outbox(tmp_path / "o.db", budget_bytes=50_000_000)
    seq = box.append(render)
    import sqlite3

    with sqlite3.connect(tmp_path / "o.db") as other:
        assert other.execute("SELECT count(*) FROM outbox WHERE seq = ?", (seq,)).fetchone()[0]
    box.close()


GOOD = """
agent_id = "dock-1"
site = "WH1"
[[stations]]
name = "dock"
mode = "receiving"
location = "WH1-DOCK-1"
[[devices]]
name = "scanner-1"
driver = "serial"
station = "dock"
params = { port = "/dev/serial/by-id/usb-x" }
"""


def test_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.station("dock").default_qty == Decimal(1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('mode = "receiving"', 'mode = "juggling"'), "stations.0.mode: Input should be"),
        (('station = "dock"', 'station = "nope"'), "devices.0.station: 'nope' is not one of"),
        (('driver = "serial"', 'driver = "carrier-pigeon"'), "devices.0: driver must be one of"),
        (('agent_id = "dock-1"', 'agent_id = "dock/1"'), "agent_id: String should match"),
        (('site = "WH1"', ""), "site: required, missing"),
        (
            ('port = "/dev/serial/by-id/usb-x"', 'port = "/dev/x", baud = 9600'),
            "devices.0.params: serial driver scanner-1: unknown parameters ['baud']",
        ),
        (
            ('location = "WH1-DOCK-1"', 'location = "WH1-DOCK-1"\ndefault_qty = -2'),
            "stations.0.default_qty: Input should be greater than 0 (received -2)",
        ),
        (("[[stations]]", "[[stations]\n"), "not valid TOML"),
        (
            ('site = "WH1"', 'site = "WH1"\n[broker]\nfailover = ["mqtts://b:8883"]'),
            "broker: failover URL mqtts://b:8883 must use mqtt:// like url",
        ),
        (
            ('site = "WH1"', 'site = "WH1"\n[broker]\nfailover = ["tcp://b:1883"]'),
            "broker.failover.0: String should match pattern",
        ),
    ],
)
def test_config_errors_name_the_field_and_value(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "a.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_a_broker_with_failover_urls_is_tried_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    cluster = '[broker]\nurl = "mqtt://a:1883"\nfailover = ["mqtt://b:1883", "mqtt://c"]\n'
    path.write_text(GOOD.replace("[[stations]]", cluster + "[[stations]]", 1))
    broker = load_config(path).broker
    assert broker.urls() == ["mqtt://a:1883", "mqtt://b:1883", "mqtt://c"]


def test_heartbeat_and_scan_messages_are_valid_contract_events() -> None:
    data = contracts.HeartbeatData(uptime_s=1, devices={"s1": {"state": "up", "reads": 3}})
    assert data.devices["s1"]["reads"] == 3


def test_the_in_flight_window_counts_an_observations_tags(tmp_path: Path) -> None:
    """A window of 20: twenty scans, or two 10-tag observations, are in flight, not twenty
    observations (which would be 200 tags of work before the first ack)."""
    import uuid

    from warehouse_edge.publisher import Publisher, weight

    config = AgentConfig(
        agent_id="w-1",
        site="WH1",
        outbox={"path": tmp_path / "outbox.db", "max_inflight": 20},
        stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
    )
    outbox = Outbox(tmp_path / "outbox.db", budget_bytes=10**8)
    tags = (
        b'{"type": "observation", "data": {"arrivals": ['
        + b",".join(b'{"epc": "%d"}' % n for n in range(10))
        + b"]}}"
    )
    assert (weight(tags), weight(b'{"type": "movement"}')) == (10, 1)
    for _ in range(30):
        outbox.append(lambda seq: (str(uuid.uuid4()), "t/events", tags))
    sent: list[bytes] = []

    class Client:
        def publish(self, topic: str, payload: bytes, qos: int) -> None:
            sent.append(payload)

    publisher = Publisher(config, outbox, on_command=lambda c: None, birth=lambda: None)  # type: ignore[arg-type, return-value]
    publisher.client = Client()  # type: ignore[assignment]
    publisher.connected.set()
    publisher._send_new()
    assert len(sent) == 2
    outbox.close()
