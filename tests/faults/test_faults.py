"""Faults on every run: each kills or starves one part of a running site and checks that every
read an operator heard accepted is in the ledger exactly once (see rig.py for the whole verdict).

The faults run side by side (conftest.py); each test here reports one of them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from tests.conftest import DEMO_CATALOG, require
from tests.faults.conftest import SCENARIOS, scenario
from tests.faults.rig import Cluster, Rig, Verdict, service_env, wait_for, warehouse
from warehouse.contracts.topics import PREFIX

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto, pytest.mark.slow]
TOTAL = 2000  # operator-accepted reads per fault
RATE = 100  # reads a second over the site's agents


def run(rig: Rig, fault: object) -> Verdict:
    try:
        rig.start()
        rig.scan(TOTAL, RATE)
        fault()  # type: ignore[operator]
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
        url = cluster.url.rsplit("/", 1)[0] + "/warehouse"
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE warehouse")
        env = service_env(url, 1883, "setup")
        for args in (("db", "upgrade"), ("seed", str(DEMO_CATALOG))):
            result = warehouse(env, *args)
            assert result.returncode == 0, result.stdout + result.stderr
        rig = Rig(workdir, url)

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
        rig.notes["killed_at_seq"] = 400

    return run(rig, fault)


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
                verdict.feed.append(f"{agent.name}: {unflagged} movements not flagged clock_skew")
            if seqs != sorted(seqs):
                verdict.feed.append(f"{agent.name}: ledger order is not seq order")
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
            verdict.feed.append("the agent did not log its refusals")
        if not verdict.notes["refused_metric"]:
            verdict.feed.append("the refusals are not in the agent's metrics")
        return verdict
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)


@pytest.mark.parametrize("fault", list(SCENARIOS))
def test_nothing_lost_nothing_doubled(
    fault: str, fault_results: dict[str, Verdict | BaseException]
) -> None:
    result = fault_results[fault]
    if isinstance(result, BaseException):
        raise result
    assert result.accepted >= TOTAL
    assert result.problems() == []
