"""The ingest use case against SQLite and PostgreSQL: exactly once, rejections, seqs, flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from tests.helpers import events_topic, movement_payload
from warehouse import tables as warehouse_tables
from warehouse.bootstrap import Service
from warehouse.exceptions.adapters import tables as exceptions_tables
from warehouse.ingest.adapters import queries
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.ingest.service.ingest import ingest_batch
from warehouse.ingest.worker.translate import translate
from warehouse.stock.adapters import movement_queries, stock_queries
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.adapters.projection import differences

SITE, AGENT = "WH1", "dock-1"
TOPIC = events_topic(SITE, AGENT)


def run(service: Service, *payloads: bytes, topic: str = TOPIC):  # type: ignore[no-untyped-def]
    items = [translate(topic, p, 256 * 1024) for p in payloads]
    return ingest_batch(service.uow(), service.catalog, items, datetime.now(UTC))


def on_hand(conn: Connection, sku: str, location: str) -> Decimal:
    rows = stock_queries.stock(
        conn, sku=sku, location=location, include_zero=True, include_virtual=True
    ).items
    return sum((r["on_hand"] for r in rows), Decimal(0))


def count(conn: Connection, table: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(warehouse_tables.metadata.tables[table])
        ).scalar_one()
    )


def test_a_movement_is_applied_once_however_often_it_arrives(seeded: Service) -> None:
    payload = movement_payload(SITE, AGENT, 1, qty=12)
    first = run(seeded, payload, payload)
    again = run(seeded, payload)
    assert (first.applied, first.duplicates, again.applied, again.duplicates) == (1, 1, 0, 1)
    assert first.acks == again.acks == {(SITE, AGENT): 1}
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "COF-250", "WH1-DOCK-1") == 12
        assert count(conn, "movements") == 1
        row = movement_queries.movements(conn, sku="COF-250", limit=5).items[0]
    assert (row["lot"], row["from_location"], row["agent_id"], row["flags"]) == (
        "L1",
        "SUPPLIER",
        AGENT,
        [],
    )


def test_gs1_code_gives_lot_and_product(seeded: Service) -> None:
    run(seeded, movement_payload(SITE, AGENT, 1, code="]C1010590123000100110LOT9", lot=None, qty=3))
    with seeded.engine.connect() as conn:
        page = stock_queries.stock(conn, sku="COF-250", location="WH1", lot="LOT9", limit=10)
    assert [(r["location"], r["lot"], r["on_hand"]) for r in page.items] == [
        ("WH1-DOCK-1", "LOT9", Decimal(3))
    ]


def test_bad_events_are_kept_with_specific_reasons(seeded: Service) -> None:
    result = run(
        seeded,
        b"not json at all",
        movement_payload(SITE, AGENT, 1, code="0000000000000", lot=None),
        movement_payload(SITE, AGENT, 2, to_location="NOWHERE"),
        movement_payload(SITE, AGENT, 3, qty="2.5"),
        movement_payload(SITE, AGENT, 4, to_location="CUSTOMER"),
        movement_payload(SITE, "someone-else", 1),
        movement_payload(SITE, AGENT, 5, qty=1),
    )
    assert (result.applied, result.rejected) == (1, 6)
    with seeded.engine.connect() as conn:
        rejected = {
            r["seq"] if r["reason"] != "topic_mismatch" else "other": r
            for r in queries.rejected_events(
                conn, reason=None, agent_id=None, limit=50, cursor=None
            ).items
        }
    assert rejected[None]["reason"] == "not_json"
    assert rejected[None]["payload"] == "not json at all"
    assert rejected[1]["reason"] == "unknown_product"
    assert "'0000000000000'" in rejected[1]["detail"]
    assert rejected[2]["reason"] == "unknown_location"
    assert "NOWHERE" in rejected[2]["detail"]
    assert rejected[3]["reason"] == "invalid_movement"
    assert "whole" in rejected[3]["detail"]
    assert rejected[4]["reason"] == "invalid_movement"
    assert rejected["other"]["reason"] == "topic_mismatch"
    # rejected events with a readable seq count as committed: the ack passes them
    assert result.acks[(SITE, AGENT)] == 5


def test_an_event_whose_body_names_another_agent_is_booked_to_its_topic(seeded: Service) -> None:
    """Published on dock-1's topic, a body that says it is agent dock-2 (or site ST1) is rejected,
    and the rejection belongs to dock-1: its seq counts as dock-1's, dock-2 is untouched."""
    result = run(
        seeded,
        movement_payload(SITE, AGENT, 1),
        movement_payload(SITE, AGENT, 2),
        movement_payload(SITE, "dock-2", 3),
        movement_payload("ST1", AGENT, 4),
        movement_payload(SITE, AGENT, 5),
    )
    assert (result.applied, result.rejected) == (3, 2)
    assert result.acks == {(SITE, AGENT): 5}
    with seeded.engine.connect() as conn:
        page = queries.rejected_events(conn, reason=None, agent_id=None, limit=10, cursor=None)
        agents = {r.agent_id: r for r in conn.execute(select(ingest_tables.agents))}
    assert sorted((r["agent_id"], r["site"], r["seq"]) for r in page.items) == [
        (AGENT, SITE, 3),
        (AGENT, SITE, 4),
    ]
    assert set(agents) == {AGENT}
    assert (agents[AGENT].acked_seq, agents[AGENT].max_seq) == (5, 5)


def test_a_resent_rejection_is_stored_once(seeded: Service) -> None:
    bad = movement_payload(SITE, AGENT, 1, to_location="NOWHERE")
    run(seeded, bad)
    run(seeded, bad)
    with seeded.engine.connect() as conn:
        assert count(conn, "rejected_events") == 1


def test_a_huge_payload_is_rejected_and_kept_truncated(seeded: Service) -> None:
    huge = b'{"v": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}'
    result = run(seeded, huge)
    assert result.rejected == 1
    with seeded.engine.connect() as conn:
        (row,) = queries.rejected_events(
            conn, reason=None, agent_id=None, limit=5, cursor=None
        ).items
    assert row["reason"] == "payload_too_large"
    assert row["payload_size"] == len(huge)
    assert row["payload_truncated"] is True


def test_seq_gaps_are_recorded_and_closed(seeded: Service) -> None:
    acks = run(seeded, *(movement_payload(SITE, AGENT, s) for s in (1, 2, 5, 6, 9))).acks
    assert acks == {(SITE, AGENT): 2}
    with seeded.engine.connect() as conn:
        (agent,) = queries.agents(conn, registered_only=False)
    assert [(g["first_seq"], g["last_seq"]) for g in agent["gaps"]] == [(3, 4), (7, 8)]
    assert (agent["acked_seq"], agent["max_seq"], agent["missing"]) == (2, 9, 4)
    acks = run(seeded, movement_payload(SITE, AGENT, 3), movement_payload(SITE, AGENT, 4)).acks
    assert acks == {(SITE, AGENT): 6}
    acks = run(seeded, movement_payload(SITE, AGENT, 7), movement_payload(SITE, AGENT, 8)).acks
    assert acks == {(SITE, AGENT): 9}
    with seeded.engine.connect() as conn:
        (agent,) = queries.agents(conn, registered_only=False)
    assert agent["gaps"] == []


def test_several_agents_in_one_batch_are_tracked_each_on_its_own(seeded: Service) -> None:
    other = "dock-2"
    items = [translate(TOPIC, movement_payload(SITE, AGENT, s), 256 * 1024) for s in (1, 2, 4)]
    items += [
        translate(events_topic(SITE, other), movement_payload(SITE, other, s), 256 * 1024)
        for s in (1, 2, 3)
    ]
    result = ingest_batch(seeded.uow(), seeded.catalog, items, datetime.now(UTC))
    assert result.acks == {(SITE, AGENT): 2, (SITE, other): 3}
    with seeded.engine.connect() as conn:
        agents = {a["agent_id"]: a for a in queries.agents(conn, registered_only=False)}
    assert [(g["first_seq"], g["last_seq"]) for g in agents[AGENT]["gaps"]] == [(3, 3)]
    assert agents[other]["gaps"] == []
    assert (agents[other]["acked_seq"], agents[other]["max_seq"]) == (3, 3)
    result = run(seeded, movement_payload(SITE, AGENT, 3))  # the gap closes
    assert result.acks == {(SITE, AGENT): 4}
    with seeded.engine.connect() as conn:
        agents = {a["agent_id"]: a for a in queries.agents(conn, registered_only=False)}
    assert agents[AGENT]["gaps"] == []


def test_floor_events_are_never_refused_for_stock(seeded: Service) -> None:
    run(
        seeded,
        movement_payload(
            SITE, AGENT, 1, kind="pick", from_location="WH1-A-01", to_location="WH1-PACK", qty=4
        ),
    )
    with seeded.engine.connect() as conn:
        assert on_hand(conn, "COF-250", "WH1-A-01") == -4
        row = movement_queries.movements(conn, kind="pick", limit=1).items[0]
    assert row["flags"] == ["negative_stock"]


def test_serialized_units_follow_their_movements(seeded: Service) -> None:
    gs1 = "]C1010590123000125421SN-1"
    run(
        seeded,
        movement_payload(SITE, AGENT, 1, code=gs1, lot=None),
        movement_payload(
            SITE,
            AGENT,
            2,
            code=gs1,
            lot=None,
            kind="transfer",
            from_location="WH1-DOCK-1",
            to_location="WH1-A-02",
        ),
        movement_payload(
            SITE,
            AGENT,
            3,
            code=gs1,
            lot=None,
            kind="transfer",
            from_location="WH1-DOCK-1",
            to_location="WH1-A-03",
        ),
    )
    with seeded.engine.connect() as conn:
        units = conn.execute(
            select(stock_tables.serial_units.c.serial, stock_tables.locations.c.code).join(
                stock_tables.locations,
                stock_tables.locations.c.id == stock_tables.serial_units.c.location_id,
            )
        ).all()
        flags = [
            m["flags"]
            for m in reversed(movement_queries.movements(conn, sku="HDP-BT", limit=5).items)
        ]
    assert [tuple(u) for u in units] == [("SN-1", "WH1-A-03")]
    # the third move names a source the unit had already left
    assert flags == [[], [], ["negative_stock", "serial_elsewhere"]]


def test_non_movement_events_are_recorded_with_payload(seeded: Service) -> None:
    doc = json.loads(movement_payload(SITE, AGENT, 1))
    doc.update(type="scan", data={"code": "5901230001001"})
    beat = json.loads(movement_payload(SITE, AGENT, 2))
    beat.update(type="heartbeat", data={"uptime_s": 5, "reads": 3, "outbox_depth": 1})
    result = run(seeded, json.dumps(doc).encode(), json.dumps(beat).encode())
    assert (result.recorded, result.applied, result.acks) == (2, 0, {(SITE, AGENT): 2})
    with seeded.engine.connect() as conn:
        stored = conn.execute(
            select(ingest_tables.inbox.c.type, ingest_tables.inbox.c.payload).order_by(
                ingest_tables.inbox.c.seq
            )
        ).all()
        (agent,) = queries.agents(conn, registered_only=False)
    assert stored[0].type == "scan"
    assert json.loads(stored[0].payload)["data"]["code"]
    assert agent["health"]["outbox_depth"] == 1


def test_projection_equals_its_rebuild_after_a_mixed_stream(seeded: Service) -> None:
    payloads = []
    for seq in range(1, 301):
        kind = ("receive", "transfer", "pick", "adjust")[seq % 4]
        extra = {
            "receive": {},
            "transfer": {"from_location": "WH1-DOCK-1", "to_location": "WH1-A-01"},
            "pick": {"from_location": "WH1-A-01", "to_location": "WH1-PACK"},
            "adjust": {"from_location": "WH1-PACK", "to_location": None},
        }[kind]
        payloads.append(movement_payload(SITE, AGENT, seq, kind=kind, qty=seq % 7 + 1, **extra))
    for start in range(0, 300, 100):
        run(seeded, *payloads[start : start + 100])
    with seeded.engine.connect() as conn:
        assert differences(conn) == {}
        assert count(conn, "movements") == 300


TAGS = {n: f"3035682EB8001F40000012{n:02X}" for n in (0x67, 0x68, 0x69)}  # HDP-BT 4711..4713
RAW_TAG = "E2801160600002054CC2096F"  # not a GS1 EPC


def observation_payload(
    seq: int,
    location: str,
    *,
    arrivals: list[str] = (),  # type: ignore[assignment]
    snapshot: list[str] | None = None,
) -> bytes:
    doc = json.loads(movement_payload(SITE, AGENT, seq))
    data: dict[str, object] = {
        "zone": location,
        "location": location,
        "arrivals": [{"epc": e, "rssi": -50} for e in arrivals],
    }
    if snapshot is not None:
        data["snapshot"] = [{"epc": e} for e in snapshot]
    doc.update(type="observation", data=data)
    return json.dumps(doc).encode()


def units(service: Service) -> dict[str, tuple[str | None, str]]:
    u, loc = stock_tables.serial_units, stock_tables.locations
    with service.engine.connect() as conn:
        rows = conn.execute(
            select(u.c.epc, u.c.serial, loc.c.code).join(loc, loc.c.id == u.c.location_id)
        ).all()
    return {r.epc: (r.serial, r.code) for r in rows}


def test_rfid_arrivals_place_serialized_units(seeded: Service) -> None:
    result = run(seeded, observation_payload(1, "WH1-DOCK-2", arrivals=list(TAGS.values())))
    assert (result.applied, result.rejected, result.recorded) == (0, 0, 0)
    assert units(seeded) == {
        TAGS[0x67]: ("4711", "WH1-DOCK-2"),
        TAGS[0x68]: ("4712", "WH1-DOCK-2"),
        TAGS[0x69]: ("4713", "WH1-DOCK-2"),
    }
    run(seeded, observation_payload(2, "WH1-A-01", arrivals=[TAGS[0x67].lower()]))
    assert units(seeded)[TAGS[0x67]] == ("4711", "WH1-A-01")


def test_a_sweep_is_recorded_with_missing_and_unexpected_tags(seeded: Service) -> None:
    run(
        seeded,
        observation_payload(1, "WH1-DOCK-2", arrivals=list(TAGS.values())),
        observation_payload(2, "WH1-A-01", arrivals=[TAGS[0x67]]),
    )
    run(
        seeded,
        observation_payload(3, "WH1-A-01", snapshot=[TAGS[0x67], TAGS[0x68], RAW_TAG]),
        observation_payload(4, "WH1-DOCK-2", snapshot=[]),
    )
    s, loc = stock_tables.rfid_sweeps, stock_tables.locations
    with seeded.engine.connect() as conn:
        rows = conn.execute(
            select(loc.c.code, s.c.expected, s.c.observed, s.c.missing, s.c.unexpected)
            .join(loc, loc.c.id == s.c.location_id)
            .order_by(s.c.id)
        ).all()
    assert [
        (r.code, r.expected, r.observed, json.loads(r.missing), json.loads(r.unexpected))
        for r in rows
    ] == [
        ("WH1-A-01", 1, 3, [], sorted([TAGS[0x68], RAW_TAG])),
        ("WH1-DOCK-2", 1, 0, [TAGS[0x69]], []),
    ]
    assert units(seeded)[TAGS[0x68]] == ("4712", "WH1-A-01")  # seen in the sweep: moved there
    x = exceptions_tables.floor_exceptions
    with seeded.engine.connect() as conn:
        found = conn.execute(select(x.c.kind, x.c.location, x.c.qty).order_by(x.c.id)).all()
    assert [tuple(r) for r in found] == [
        ("unexpected_tag", "WH1-A-01", 2),
        ("missing_tag", "WH1-DOCK-2", 1),
        ("unknown_tag", "WH1-A-01", 1),  # the raw tag is no unit and names no product
    ]
    run(seeded, observation_payload(5, "WH1-DOCK-2", snapshot=[]))  # the same again
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(x)).scalar_one() == 3  # still open


def units_by_serial(service: Service) -> dict[str | None, tuple[str | None, str]]:
    u, loc = stock_tables.serial_units, stock_tables.locations
    with service.engine.connect() as conn:
        rows = conn.execute(
            select(u.c.serial, u.c.epc, loc.c.code).join(loc, loc.c.id == u.c.location_id)
        ).all()
    return {r.serial: (r.epc, r.code) for r in rows}


def floor_exceptions(service: Service) -> list[tuple[str, str | None, Decimal | None]]:
    x = exceptions_tables.floor_exceptions
    with service.engine.connect() as conn:
        rows = conn.execute(select(x.c.kind, x.c.location, x.c.qty).order_by(x.c.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_rfid_urns_are_taken_wherever_hex_is(seeded: Service) -> None:
    pure = "urn:epc:id:sgtin:5901230.000125.4711"  # HDP-BT 4711, as the contract's example
    tagged = "urn:epc:tag:sgtin-96:1.5901230.000125.4712"  # the very binary of TAGS[0x68]
    run(seeded, observation_payload(1, "WH1-DOCK-2", arrivals=[pure, tagged]))
    assert units_by_serial(seeded) == {
        "4711": (None, "WH1-DOCK-2"),  # a pure identity names no binary
        "4712": (TAGS[0x68], "WH1-DOCK-2"),
    }
    # a reader's hex of the first is the same unit, which learns its tag
    run(seeded, observation_payload(2, "WH1-DOCK-2", arrivals=[TAGS[0x67]]))
    assert units_by_serial(seeded)["4711"] == (TAGS[0x67], "WH1-DOCK-2")
    # a sweep in pure identities sees both units where they are
    run(seeded, observation_payload(3, "WH1-DOCK-2", snapshot=[pure, tagged.upper()]))
    s = stock_tables.rfid_sweeps
    with seeded.engine.connect() as conn:
        sweep = conn.execute(select(s.c.expected, s.c.observed, s.c.missing, s.c.unexpected)).one()
    assert (
        sweep.expected,
        sweep.observed,
        json.loads(sweep.missing),
        json.loads(sweep.unexpected),
    ) == (
        2,
        2,
        [],
        [],
    )
    assert floor_exceptions(seeded) == []


def test_a_tag_that_matches_nothing_is_an_unknown_tag_exception(seeded: Service) -> None:
    unknown = "urn:epc:id:sgtin:4012345.066666.1"  # a GTIN no product has
    result = run(
        seeded,
        observation_payload(1, "WH1-DOCK-2", arrivals=[unknown, RAW_TAG]),
        observation_payload(2, "WH1-DOCK-2", arrivals=[RAW_TAG]),  # one question per location
    )
    assert result.rejected == 0
    assert floor_exceptions(seeded) == [("unknown_tag", "WH1-DOCK-2", Decimal(2))]
    assert units_by_serial(seeded) == {}


def test_a_unit_rfid_sees_elsewhere_than_the_ledger_put_it_is_an_exception(
    seeded: Service,
) -> None:
    movement = movement_payload(
        SITE, AGENT, 1, code=None, epc=TAGS[0x67], lot=None, to_location="WH1-DOCK-1"
    )
    run(seeded, movement)  # the ledger puts HDP-BT 4711 at WH1-DOCK-1
    run(seeded, observation_payload(2, "WH1-DOCK-1", arrivals=[TAGS[0x67], TAGS[0x68]]))
    assert floor_exceptions(seeded) == []  # where the ledger says, and one the ledger never had
    run(seeded, observation_payload(3, "WH1-A-01", arrivals=[TAGS[0x67], TAGS[0x68]]))
    assert units_by_serial(seeded)["4711"] == (TAGS[0x67], "WH1-A-01")  # RFID says where it is
    assert floor_exceptions(seeded) == [("unexpected_tag", "WH1-A-01", Decimal(1))]
    x = exceptions_tables.floor_exceptions
    with seeded.engine.connect() as conn:
        detail = conn.execute(select(x.c.detail)).scalar_one()
    assert "WH1-DOCK-1" in detail


def test_an_observation_of_an_unknown_location_is_rejected(seeded: Service) -> None:
    result = run(seeded, observation_payload(1, "NO-SUCH-ZONE", arrivals=[TAGS[0x67]]))
    assert result.rejected == 1
    with seeded.engine.connect() as conn:
        (row,) = queries.rejected_events(
            conn, reason=None, agent_id=None, limit=5, cursor=None
        ).items
    assert row["reason"] == "unknown_location"
    assert "NO-SUCH-ZONE" in row["detail"]


SGTIN_HDP = "3035682EB8001F40000004D2"  # urn:epc:id:sgtin:5901230.000125.1234: HDP-BT serial 1234


def test_a_movement_naming_only_an_epc_finds_its_product_by_the_sgtin(seeded: Service) -> None:
    result = run(seeded, movement_payload(SITE, AGENT, 1, code=None, lot=None, epc=SGTIN_HDP))
    assert result.applied == 1
    with seeded.engine.connect() as conn:
        (row,) = movement_queries.movements(conn, sku="HDP-BT", limit=5).items
        unit = conn.execute(select(stock_tables.serial_units)).one()
    assert (row["epc"], row["serial"], row["flags"]) == (SGTIN_HDP, "1234", [])
    assert (unit.epc, unit.serial) == (SGTIN_HDP, "1234")


def test_units_moved_twice_in_one_batch_end_where_the_second_move_put_them(
    seeded: Service,
) -> None:
    code = "]C1010590123000125421SN-77"
    result = run(
        seeded,
        movement_payload(SITE, AGENT, 1, code=code, lot=None),
        movement_payload(
            SITE,
            AGENT,
            2,
            code=code,
            lot=None,
            kind="transfer",
            from_location="WH1-DOCK-1",
            to_location="WH1-A-01",
        ),
        movement_payload(  # from where it is not: flagged
            SITE,
            AGENT,
            3,
            code=code,
            lot=None,
            kind="transfer",
            from_location="WH1-DOCK-1",
            to_location="WH1-A-02",
        ),
    )
    assert result.applied == 3
    with seeded.engine.connect() as conn:
        flags = [
            m["flags"]
            for m in reversed(movement_queries.movements(conn, sku="HDP-BT", limit=5).items)
        ]
        units = conn.execute(select(stock_tables.serial_units.c.location_id)).scalars().all()
        a02 = conn.execute(
            select(stock_tables.locations.c.id).where(stock_tables.locations.c.code == "WH1-A-02")
        ).scalar_one()
    assert flags == [[], [], ["negative_stock", "serial_elsewhere"]]
    assert units == [a02]
