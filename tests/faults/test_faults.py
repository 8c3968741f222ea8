"""Faults on every run: each kills or starves one part of a running site and checks that every
read an operator heard accepted is in the ledger exactly once (rig.py has the whole verdict,
processes.py the processes).

The faults run side by side (conftest.py); each test here reports one of them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import paho.mqtt.client as mqtt
import psycopg
import pytest

from tests.conftest import require
from tests.faults.conftest import SCENARIOS, scenario
from tests.faults.processes import (
    Api,
    Cluster,
    seeded_database,
    service_env,
    wait_for,
    warehouse,
)
from tests.faults.rig import AckWatch, Rig, Verdict
from tests.integration.pos_fixtures import open_store, sale
from warehouse.contracts.topics import PREFIX

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto, pytest.mark.slow]
TOTAL = 2000  # operator-accepted reads per fault
STREAM = "WAREHOUSE_INGEST"  # the NATS ingest stream
RATE = 100  # reads a second over the site's agents


def run(rig: Rig, fault: Callable[[], None]) -> Verdict:
    try:
        rig.start()
        rig.scan(TOTAL, RATE)
        fault()
        return rig.verdict()
    finally:
        rig.close()


@scenario("worker-sigkill-twice")
def worker_killed_twice(workdir: Path, database_url: str) -> Verdict:
    """The ingest worker SIGKILLed mid-batch, twice, and started again a second later."""
    rig = Rig(workdir, database_url)

    def fault() -> None:
        for at in (500, 1200):
            rig.wait_accepted(at)
            rig.workers[0].kill()
            time.sleep(1)
            rig.cleared()
            rig.workers[0].start()

    return run(rig, fault)


def _broker_killed(workdir: Path, database_url: str, persistence: bool) -> Verdict:
    rig = Rig(workdir, database_url, persistence=persistence)

    def fault() -> None:
        rig.wait_accepted(700)
        rig.broker.kill()
        time.sleep(3)
        rig.cleared()
        rig.broker.start()

    return run(rig, fault)


@scenario("mosquitto-sigkill")
def broker_killed(workdir: Path, database_url: str) -> Verdict:
    """Mosquitto (no persistence) SIGKILLed for 3 s: sessions and queued messages are gone."""
    return _broker_killed(workdir, database_url, persistence=False)


@scenario("mosquitto-sigkill-persistent")
def broker_killed_persistent(workdir: Path, database_url: str) -> Verdict:
    """Mosquitto with persistence SIGKILLed for 3 s: it comes back with what it last saved."""
    return _broker_killed(workdir, database_url, persistence=True)


@scenario("postgres-immediate-stop")
def postgres_stopped(workdir: Path, _template_copy: str) -> Verdict:
    """A private PostgreSQL cluster stopped with ``-m immediate`` (a crash) for 5 s, then
    started again (crash recovery)."""
    cluster = Cluster()
    cluster.start()
    try:
        rig = Rig(workdir, seeded_database(cluster.url, "warehouse"))

        def fault() -> None:
            rig.wait_accepted(700)
            cluster.stop("immediate")
            time.sleep(5)
            rig.cleared()
            cluster.start()

        return run(rig, fault)
    finally:
        cluster.remove()


@scenario("agent-sigkill-after-write")
def agent_killed_after_write(workdir: Path, database_url: str) -> Verdict:
    """An agent SIGKILLs itself (fault hook) right after its outbox committed a read, before
    publishing it or beeping; it is started again."""
    rig = Rig(workdir, database_url)
    agent = rig.agents[0]
    agent.env["WAREHOUSE_EDGE_FAULTS"] = "kill-after-write=400"

    def fault() -> None:
        assert agent.proc is not None
        agent.proc.wait(120)
        rig.cleared()
        agent.env.pop("WAREHOUSE_EDGE_FAULTS")
        agent.start()

    verdict = run(rig, fault)
    (event_id,) = [e for seq, e, *_ in agent.rows() if seq == 400]
    with psycopg.connect(database_url) as db:
        found = db.execute("SELECT count(*) FROM movements WHERE event_id = %s", (event_id,))
        if found.fetchone() != (1,):
            verdict.checks.append("the read stored just before the kill is not in the ledger once")
    return verdict


@scenario("agent-sigkill-draining")
def agent_killed_draining(workdir: Path, database_url: str) -> Verdict:
    """An agent SIGKILLed while it drains a backlog (the worker was stopped for 6 s)."""
    rig = Rig(workdir, database_url)
    agent = rig.agents[0]

    def fault() -> None:
        rig.wait_accepted(600)
        rig.workers[0].kill()
        time.sleep(6)
        backlog = agent.pending()
        rig.workers[0].start()
        wait_for("the drain began", lambda: agent.pending() < backlog - 20, 30)
        agent.kill()
        rig.notes["backlog"] = backlog
        rig.notes["pending_at_kill"] = agent.pending()
        rig.cleared()
        agent.start()

    return run(rig, fault)


def _link(workdir: Path, database_url: str, reset: bool | None) -> Verdict:
    rig = Rig(workdir, database_url, proxy=True)
    assert rig.proxy is not None
    proxy = rig.proxy

    def fault() -> None:
        rig.wait_accepted(700)
        if reset is None:
            proxy.pause()
        else:
            proxy.cut(reset=reset)
        time.sleep(12)  # the agents' keepalive is 5 s: the broker gives up after 7.5 s
        rig.cleared()
        if reset is None:
            proxy.resume()
        else:
            proxy.restore()

    return run(rig, fault)


@scenario("link-paused")
def link_paused(workdir: Path, database_url: str) -> Verdict:
    """The agent-to-broker link holds every packet for 12 s (keepalive 5 s), then flows."""
    return _link(workdir, database_url, reset=None)


@scenario("link-cut-rst")
def link_cut(workdir: Path, database_url: str) -> Verdict:
    """The agent-to-broker link is reset (RST) and refuses connections for 12 s."""
    return _link(workdir, database_url, reset=True)


@scenario("duplicate-storm")
def duplicate_storm(workdir: Path, database_url: str) -> Verdict:
    """1,000 of the agents' events published again three times each, as a broker redelivering
    them would."""
    rig = Rig(workdir, database_url)
    captured: list[tuple[str, bytes]] = []

    def fault() -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"storm-{rig.site}")
        got = threading.Event()

        def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
            if len(captured) < 1000:
                captured.append((message.topic, bytes(message.payload)))
            if len(captured) >= 1000:
                got.set()

        client.on_message = on_message
        client.connect("127.0.0.1", rig.broker.port)
        client.subscribe(f"{PREFIX}/{rig.site}/+/events", qos=1)
        client.loop_start()
        try:
            assert got.wait(120), f"captured {len(captured)} events"
            for _ in range(3):
                for topic, payload in captured:
                    client.publish(topic, payload, qos=1).wait_for_publish(10)
        finally:
            client.loop_stop()
            client.disconnect()
        rig.notes["redelivered"] = 3 * len(captured)

    return run(rig, fault)


@scenario("edge-clock-skew")
def clock_skew(workdir: Path, database_url: str) -> Verdict:
    """One agent's clock 2 h ahead, the other's a day behind: applied, flagged, in seq order.
    (The service flags times more than 5 min ahead and, here, more than 12 h behind.)"""
    rig = Rig(workdir, database_url, worker_env={"WAREHOUSE_CLOCK_BEHIND_S": "43200"})
    for agent, offset in zip(rig.agents, (7200, -86400), strict=True):
        agent.env["WAREHOUSE_EDGE_FAULTS"] = f"clock-offset-s={offset}"

    def fault() -> None:
        pass

    verdict = run(rig, fault)
    with psycopg.connect(database_url) as db:
        for agent in rig.agents:
            rows = db.execute(
                "SELECT event_id, flags FROM movements WHERE agent_id = %s ORDER BY id",
                (agent.name,),
            ).fetchall()
            order = {event_id: seq for seq, event_id, *_ in agent.rows()}
            seqs = [order[event_id] for event_id, _ in rows]
            unflagged = sum("clock_skew" not in flags.split(",") for _, flags in rows)
            if unflagged:
                verdict.checks.append(f"{agent.name}: {unflagged} movements not flagged clock_skew")
            if seqs != sorted(seqs):
                verdict.checks.append(f"{agent.name}: ledger order is not seq order")
            verdict.notes[f"{agent.name}_flagged"] = len(rows) - unflagged
    return verdict


@scenario("outbox-disk-full")
def disk_full(workdir: Path, database_url: str) -> Verdict:
    """The agents' outboxes on a 256 kB tmpfs that fills up: reads are refused loudly (error
    beep, log, metric) and what was stored is kept and sent; the tmpfs grows to 64 MB and reads
    are accepted again."""
    disk = Path(tempfile.mkdtemp(prefix="warehouse-outbox-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    require("a tmpfs", mounted.returncode == 0, mounted.stderr.decode().strip())
    try:
        rig = Rig(workdir, database_url, outbox_dir=disk, metrics=True)

        def fault() -> None:
            refused = lambda: sum(len(o.refused) for o in rig.operators)  # noqa: E731
            wait_for("reads refused on a full disk", lambda: refused() >= 20, 120)
            rig.notes["refused_reads"] = refused()
            rig.notes["refused_metric"] = rig.agents[0].metric(
                "warehouse_edge_outbox_refused_total"
            )
            time.sleep(1)
            rig.cleared()
            subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)

        verdict = run(rig, fault)
        logs = rig.agents[0].log.read_text(errors="replace")
        if "scan REFUSED, cannot write outbox" not in logs:
            verdict.checks.append("the agent did not log its refusals")
        if not verdict.notes["refused_metric"]:
            verdict.checks.append("the refusals are not in the agent's metrics")
        return verdict
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)


SALES_CLIENTS = 50


@scenario("api-sigkill-pos-sales")
def api_killed_during_sales(workdir: Path, database_url: str) -> Verdict:
    """``warehouse serve`` SIGKILLed while 50 registers' clients post 2,000 sales, each with its
    sale id as idempotency key and retried until answered: each sale recorded once, receipt
    numbers gapless."""
    env = service_env(database_url, 1883, "api", WAREHOUSE_API_RATE_LIMIT="1000000/minute")
    key = warehouse(env, "api-keys", "create", "faults", "--grant", "admin@*")
    assert key.returncode == 0, key.stderr
    token = next(w for w in key.stdout.split() if w.startswith("whk_"))
    api = Api(env, workdir / "api.log")
    api.start()
    answered: dict[str, tuple[float, int, int]] = {}  # sale id -> (when, receipt number)
    failures: list[str] = []
    try:
        with httpx2.Client(
            base_url=api.base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            open_store(client, stock={"TEA-GRN": TOTAL + 500})  # type: ignore[arg-type]

        def register_client(n: int) -> None:
            with httpx2.Client(
                base_url=api.base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as client:
                for k in range(TOTAL // SALES_CLIENTS):
                    sale_id = f"S{n:02d}-{k:03d}-{uuid.uuid4().hex[:8]}"
                    body = sale(
                        sale_id, [{"sku": "TEA-GRN"}], [{"kind": "card", "amount_minor": 499}]
                    )
                    failures.extend(post_until_answered(client, body, answered))

        with ThreadPoolExecutor(SALES_CLIENTS) as pool:
            running = [pool.submit(register_client, n) for n in range(SALES_CLIENTS)]
            wait_for("600 sales answered", lambda: len(answered) >= 600, 120, api.log)
            api.kill()
            time.sleep(1)
            cleared = time.time()
            api.start()
            for future in running:
                future.result(timeout=300)
    finally:
        api.close()
    return sales_verdict(database_url, env, answered, failures, cleared)


def post_until_answered(
    client: httpx2.Client, body: dict[str, object], answered: dict[str, tuple[float, int, int]]
) -> list[str]:
    """Post one sale until the API answers it: a dropped connection or a 5xx is retried with
    the same body (and so the same sale id)."""
    deadline = time.monotonic() + 120
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        try:
            response = client.post("/api/v1/pos/sales", json=body)
        except httpx2.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code in (200, 201):
            answered[str(body["sale_id"])] = (
                time.time(),
                int(response.json()["receipt_no"]),
                attempts,
            )
            return []
        if response.status_code < 500 and response.status_code != 429:
            return [f"{body['sale_id']}: {response.status_code} {response.text[:200]}"]
        time.sleep(0.2)
    return [f"{body['sale_id']}: not answered in 120 s"]


def sales_verdict(
    database_url: str,
    env: dict[str, str],
    answered: dict[str, tuple[float, int, int]],
    failures: list[str],
    cleared: float,
) -> Verdict:
    verdict = Verdict(accepted=len(answered), rejected=failures)
    with psycopg.connect(database_url) as db:
        rows = db.execute("SELECT sale_id, receipt_no FROM pos_sales").fetchall()
        moves = db.execute(
            "SELECT count(*) FROM movements WHERE kind = 'sale' AND order_ref IS NOT NULL"
        ).fetchone()
    recorded = dict(rows)
    verdict.ledger = len(rows)
    verdict.doubled = len(rows) - len(recorded)
    verdict.lost = sorted(set(answered) - set(recorded))
    verdict.unknown = sorted(set(recorded) - set(answered))
    numbers = sorted(no for _, no in rows)
    if numbers != list(range(1, len(numbers) + 1)):
        verdict.checks.append(f"receipt numbers not gapless: {len(numbers)} up to {numbers[-1]}")
    if any(recorded.get(s) != no for s, (_, no, _) in answered.items()):
        verdict.checks.append("a retried sale was answered with another receipt number")
    after = [when - cleared for when, _, _ in answered.values() if when >= cleared]
    retried = [when - cleared for when, _, tries in answered.values() if tries > 1]
    verdict.first_ack_s = min(after) if after else None
    verdict.drained_s = max(retried) if retried else None
    verdict.notes["retried_sales"] = len(retried)
    verdict.notes["sale_movements"] = moves[0] if moves else 0
    result = warehouse(env, "db", "check-projection")
    if result.returncode != 0:
        verdict.projection = (result.stdout + result.stderr)[-1000:]
    return verdict


@scenario("mixed-load-two-of-each")
def mixed_load(workdir: Path, database_url: str) -> Verdict:
    """Two API processes and two ingest workers (one shared subscription) on one database and
    one broker: 8 agents scan, 200 sales go to both APIs, a count and a transfer are posted;
    one worker is SIGKILLed midway."""
    rig = Rig(workdir, database_url, agents=8, workers=2)
    env = {**rig.env, "WAREHOUSE_API_RATE_LIMIT": "1000000/minute"}
    key = warehouse(env, "api-keys", "create", "faults", "--grant", "admin@*")
    token = next(w for w in key.stdout.split() if w.startswith("whk_"))
    auth = {"Authorization": f"Bearer {token}"}
    apis = [Api(env, workdir / f"api-{n}.log") for n in range(2)]
    answered: dict[str, tuple[float, int, int]] = {}
    failures: list[str] = []

    def sales(n: int) -> None:
        with httpx2.Client(base_url=apis[n % 2].base, headers=auth, timeout=30) as client:
            for k in range(20):
                body = sale(
                    f"M{n}-{k}", [{"sku": "TEA-GRN"}], [{"kind": "card", "amount_minor": 499}]
                )
                failures.extend(post_until_answered(client, body, answered))

    def count_and_transfer() -> None:
        with httpx2.Client(base_url=apis[1].base, headers=auth, timeout=30) as client:
            for call, body in (
                ("/api/v1/counts", {"ref": "CNT-F", "location": "WH1-A"}),
                (
                    "/api/v1/counts/CNT-F/entries",
                    {"entries": [{"sku": "TEA-BLK", "location": "WH1-A-01", "qty": "18"}]},
                ),
                ("/api/v1/counts/CNT-F/approve", None),
                (
                    "/api/v1/transfers",
                    {
                        "ref": "TO-F",
                        "from_location": "WH1-A-01",
                        "to_location": "WH1-B-01",
                        "lines": [{"sku": "TEA-BLK", "qty": "5"}],
                    },
                ),
                ("/api/v1/transfers/TO-F/ship", None),
            ):
                response = client.post(call, json=body)
                if response.status_code not in (200, 201):
                    failures.append(f"{call}: {response.status_code} {response.text[:200]}")

    watches: list[AckWatch] = []

    def fault() -> None:
        watches.append(AckWatch(rig.broker.port, rig.site, database_url))
        for api in apis:
            api.start()
        with httpx2.Client(base_url=apis[0].base, headers=auth, timeout=30) as client:
            open_store(client, stock={"TEA-GRN": 500})  # type: ignore[arg-type]
            receive = {"kind": "receive", "sku": "TEA-BLK", "qty": "20", "to_location": "WH1-A-01"}
            assert client.post("/api/v1/movements", json=receive).status_code == 201
        with ThreadPoolExecutor(11) as pool:
            running = [pool.submit(sales, n) for n in range(10)]
            running.append(pool.submit(count_and_transfer))
            rig.wait_accepted(800)
            rig.workers[0].kill()
            time.sleep(1)
            rig.cleared()
            rig.workers[0].start()
            for future in running:
                future.result(timeout=300)

    try:
        verdict = run(rig, fault)
    finally:
        for api in apis:
            api.close()
        for watch in watches:
            watch.close()
    acks = watches[0]
    verdict.checks += acks.backwards()
    verdict.notes["acks_on_the_wire"] = sum(len(s) for s in acks.wire.values())
    verdict.notes["acks_crossed_on_the_wire"] = acks.crossed()
    verdict.notes["acked_seq_samples"] = sum(len(s) for s in acks.recorded.values())
    sold = sales_verdict(database_url, env, answered, failures, rig.cleared_at or 0.0)
    verdict.checks += [f"sales: {p}" for p in sold.problems()]
    verdict.notes["sales"] = sold.ledger
    with psycopg.connect(database_url) as db:
        (on_hand,) = db.execute(
            "SELECT s.on_hand FROM stock s JOIN products p ON p.id = s.product_id "
            "JOIN locations l ON l.id = s.location_id "
            "WHERE p.sku = 'TEA-BLK' AND l.code = 'WH1-A-01'"
        ).fetchone()
    if on_hand != 13_000_000:  # millionths: 20 received, counted 18, 5 transferred out
        verdict.checks.append(f"TEA-BLK at WH1-A-01 is {on_hand}, not 13")
    return verdict


@scenario("agent-broker-failover")
def broker_failover(workdir: Path, database_url: str) -> Verdict:
    """The agents' broker (a node bridged to the workers' node) SIGKILLed for good: the agents
    fail over to the other URL in their config, with the same outbox and acks."""
    rig = Rig(workdir, database_url, failover=True)
    assert rig.node is not None
    node = rig.node

    def fault() -> None:
        rig.wait_accepted(700)
        node.kill()
        rig.cleared()
        for agent in rig.agents:
            wait_for(
                f"{agent.name} on the other broker",
                lambda a=agent: "trying the next broker" in a.log.read_text(errors="replace"),
                30,
                agent.log,
            )

    return run(rig, fault)


@scenario("nats-cluster-node-and-worker-kills")
def nats_cluster(workdir: Path, database_url: str) -> Verdict:
    """A 3-node NATS cluster carries the agents' MQTT (four agents spread over the nodes) and
    the stream two workers share (replicas 3). The node leading the stream is SIGKILLed and
    started again 3 s later; one worker is SIGKILLed for good; then the node leading the stream
    by then is SIGKILLed and started again. 5,000 reads at 250 a second."""
    rig = Rig(workdir, database_url, agents=4, workers=2, nats=True)
    assert rig.cluster is not None
    cluster = rig.cluster
    killed: list[str] = []

    def kill_the_leader(at: int) -> None:
        rig.wait_accepted(at, timeout=180)
        wait_for("a node leading the stream", lambda: cluster.stream_leader(STREAM), 30)
        leader = cluster.stream_leader(STREAM)
        assert leader is not None
        leader.kill()
        killed.append(leader.name)
        time.sleep(3)
        rig.cleared()
        leader.start()

    try:
        rig.start()
        rig.scan(5000, 250)
        kill_the_leader(1200)
        rig.wait_accepted(2500, timeout=180)
        rig.workers[0].kill()
        kill_the_leader(3500)
        rig.notes["stream leaders killed"] = ", ".join(killed)
        verdict = rig.verdict(drain_timeout=180)
    finally:
        rig.close()
    failed_over = sum("trying the next broker" in a.log.read_text() for a in rig.agents)
    verdict.notes["agents that failed over"] = failed_over
    return verdict


@pytest.mark.parametrize("fault", list(SCENARIOS))
def test_nothing_lost_nothing_doubled(
    fault: str, fault_results: dict[str, Verdict | BaseException]
) -> None:
    result = fault_results[fault]
    if isinstance(result, BaseException):
        raise result
    assert result.accepted >= TOTAL
    assert result.problems() == []
