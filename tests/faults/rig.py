"""A site on loopback that a fault test can break (the processes are in processes.py), and
operators scanning into its agents' pty scanners at a steady rate.

``Rig.verdict()`` checks what the fault suite promises: every read an operator heard accepted is
in the ledger exactly once, nothing is in the ledger that no agent stored, the projection
matches the ledger (``warehouse db check-projection``), the change feed has every change once,
per-agent acks are complete and gapless, and every outbox drained.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.conftest import PrivateBroker
from tests.faults.processes import (
    ERROR,
    OK,
    Agent,
    Worker,
    service_env,
    spare_port,
    wait_for,
    warehouse,
)
from tests.nats_cluster import NatsCluster
from tests.tcp_proxy import TcpProxy

SERIAL_GTIN = "05901230001254"  # HDP-BT in the demo catalog, serial-tracked


class Operator(threading.Thread):
    """Scans unique serials into one agent at a steady rate until ``target`` were accepted
    (an ``ok`` beep). A read with no beep in time is not counted as accepted and not re-scanned:
    the agent may still have stored it, which the verdict allows."""

    def __init__(self, agent: Agent, target: int, rate: float, timeout: float = 2.0) -> None:
        super().__init__(name=f"operator-{agent.name}", daemon=True)
        self.agent = agent
        self.target = target
        self.interval = 1 / rate
        self.timeout = timeout
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.silent: list[str] = []
        self.gate = threading.Event()  # cleared: the operator waits (a test pauses the floor)
        self.gate.set()

    def run(self) -> None:
        due = time.monotonic()
        n = 0
        while len(self.accepted) < self.target and n < self.target * 3:
            self.gate.wait()
            n += 1
            serial = f"{self.agent.name.upper()}X{n:06d}"
            reply = self.agent.scanner.scan(f"]C101{SERIAL_GTIN}21{serial}", self.timeout)
            {OK: self.accepted, ERROR: self.refused}.get(reply, self.silent).append(serial)
            due += self.interval
            time.sleep(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - 1)  # a stall does not turn into a burst

    def progress(self) -> int:
        return len(self.accepted)


@dataclass
class Verdict:
    """What a fault run left behind."""

    accepted: int = 0
    ledger: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: int = 0
    unknown: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    projection: str = ""
    checks: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    first_ack_s: float | None = None
    drained_s: float | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} accepted reads lost: {self.lost[:5]}")
        if self.doubled:
            found.append(f"{self.doubled} doubled in the ledger")
        if self.unknown:
            found.append(f"{len(self.unknown)} ledger rows no agent stored: {self.unknown[:5]}")
        if self.rejected:
            found.append(f"rejected events: {self.rejected[:5]}")
        if self.projection:
            found.append(f"projection: {self.projection}")
        found += self.checks + [f"acks: {p}" for p in self.acks]
        return found


class Rig:
    """One site: a broker, a database, ingest workers and agents; the test injects the fault."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        agents: int = 2,
        workers: int = 1,
        persistence: bool = False,
        proxy: bool = False,
        failover: bool = False,
        agent_env: dict[str, str] | None = None,
        worker_env: dict[str, str] | None = None,
        outbox_dir: Path | None = None,
        metrics: bool = False,
        nats: bool = False,
    ) -> None:
        self.workdir = workdir
        self.site = f"F{uuid.uuid4().hex[:10]}"
        self.database_url = database_url
        self.broker = PrivateBroker(workdir / "broker", persistence=persistence)
        # nats: a cluster of three nats-server nodes carries the devices' MQTT instead, and the
        # workers consume its JetStream stream (replicas 3); each agent on its own node
        self.cluster = NatsCluster(workdir / "nats", size=3) if nats else None
        extra = dict(worker_env or {})
        if self.cluster is not None:
            extra |= {"WAREHOUSE_NATS_URL": self.cluster.url, "WAREHOUSE_NATS_REPLICAS": "3"}
        self.env = service_env(database_url, self.broker.port, self.site, **extra)
        self.workers = [Worker(self.env, workdir / f"worker-{n}.log") for n in range(workers)]
        self.proxy = TcpProxy(("127.0.0.1", self.broker.port)) if proxy else None
        # failover: the agents connect to a second node bridged to the first, and fail over to
        # the first (where the workers are) when the second is lost
        self.node = (
            PrivateBroker(workdir / "node-2", bridge_to=self.broker.port) if failover else None
        )
        port = self.proxy.port if self.proxy else self.broker.port
        if self.node is not None:
            port = self.node.port
        ports = [(port, (self.broker.port,) if failover else ())] * agents
        if self.cluster is not None:
            nodes = [node.mqtt_port for node in self.cluster.nodes]
            ports = [
                (nodes[n % 3], tuple(p for p in nodes if p != nodes[n % 3])) for n in range(agents)
            ]
        self.agents = [
            Agent(
                workdir,
                f"a{n}",
                self.site,
                ports[n][0],
                outbox=(outbox_dir / f"a{n}.db") if outbox_dir else None,
                env=agent_env,
                metrics_port=spare_port() if metrics else None,
                failover_ports=ports[n][1],
                protocol="3.1.1" if nats else "5",  # nats-server speaks MQTT 3.1.1
            )
            for n in range(agents)
        ]
        self.operators: list[Operator] = []
        self.cleared_at: float | None = None
        self.notes: dict[str, object] = {}

    def start(self) -> None:
        if self.cluster is not None:
            self.cluster.start()
        else:
            self.broker.start()
        if self.node is not None:
            self.node.start()
        for worker in self.workers:
            worker.start()
        for agent in self.agents:
            agent.start()

    def scan(self, total: int, rate: float) -> None:
        """Operators start scanning: ``total`` accepted reads over all agents, ``rate`` reads a
        second over all agents."""
        share = -(-total // len(self.agents))
        self.operators = [Operator(a, share, rate / len(self.agents)) for a in self.agents]
        for operator in self.operators:
            operator.start()

    def accepted(self) -> int:
        return sum(o.progress() for o in self.operators)

    def wait_accepted(self, count: int, timeout: float = 120) -> None:
        wait_for(f"{count} reads accepted", lambda: self.accepted() >= count, timeout)

    def cleared(self) -> None:
        """The fault is over: recovery times count from now."""
        self.cleared_at = time.time()

    def close(self) -> None:
        for operator in self.operators:
            operator.gate.set()
        for agent in self.agents:
            agent.close()
        for worker in self.workers:
            worker.close()
        self.broker.stop()
        if self.cluster is not None:
            self.cluster.stop()
        if self.node is not None:
            self.node.stop()
        if self.proxy is not None:
            self.proxy.close()

    def logs(self) -> str:
        parts = [w.log for w in self.workers] + [a.log for a in self.agents]
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in parts if p.exists()
        )

    # --- the verdict ----------------------------------------------------------------------

    def verdict(self, drain_timeout: float = 120) -> Verdict:
        for operator in self.operators:
            operator.join(300)
            assert not operator.is_alive(), f"{operator.name} did not finish"
        wait_for(
            "every outbox drained",
            lambda: all(a.pending() == 0 for a in self.agents),
            drain_timeout,
            self.workers[0].log,
        )
        verdict = Verdict(accepted=self.accepted(), notes=self.notes)
        stored: set[str] = set()
        last_seqs: dict[str, int] = {}
        for agent in self.agents:
            rows = agent.rows()
            stored |= {event_id for _, event_id, *_ in rows}
            last_seqs[agent.name] = rows[-1][0] if rows else 0
            self._recovery(verdict, rows)
        self._ledger(verdict, stored, last_seqs)
        result = warehouse(self.env, "db", "check-projection")
        if result.returncode != 0:
            verdict.projection = (result.stdout + result.stderr)[-1000:]
        return verdict

    def _recovery(
        self, verdict: Verdict, rows: list[tuple[int, str, bytes, float, float | None]]
    ) -> None:
        if self.cleared_at is None:
            return
        t0 = self.cleared_at
        after = [acked - t0 for *_, acked in rows if acked is not None and acked >= t0]
        backlog = [acked - t0 for *_, created, acked in rows if created < t0 and acked is not None]
        if after:
            first = min(after)
            verdict.first_ack_s = min(first, verdict.first_ack_s or first)
        if backlog:
            drained = max(0.0, *backlog)
            verdict.drained_s = max(drained, verdict.drained_s or 0.0)

    def _ledger(self, verdict: Verdict, stored: set[str], last_seqs: dict[str, int]) -> None:
        accepted = {s for o in self.operators for s in o.accepted}
        names = [a.name for a in self.agents]
        with psycopg.connect(self.database_url) as db:
            moves = db.execute(
                "SELECT event_id, serial FROM movements WHERE agent_id = ANY(%s)", (names,)
            ).fetchall()
            verdict.rejected = [
                f"{reason}: {detail[:120]}"
                for reason, detail in db.execute("SELECT reason, detail FROM rejected_events")
            ]
            verdict.checks = [
                f"change feed: {n} copies of version {v} of stock row ({p}, {loc}, {lot!r})"
                for p, loc, lot, v, n in db.execute(
                    "SELECT product_id, location_id, lot, version, count(*) FROM stock_changes "
                    "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
                )
            ] + [
                f"change feed: stock row ({p}, {loc}) at version {v} on hand {q}, "
                f"its last change {cv} {cq}"
                for p, loc, v, q, cv, cq in db.execute(
                    "SELECT s.product_id, s.location_id, s.version, s.on_hand, c.version, "
                    "c.on_hand FROM stock s LEFT JOIN LATERAL (SELECT version, on_hand "
                    "FROM stock_changes c WHERE (c.product_id, c.location_id, c.lot) = "
                    "(s.product_id, s.location_id, s.lot) ORDER BY version DESC LIMIT 1) c "
                    "ON true WHERE c.version IS DISTINCT FROM s.version "
                    "OR c.on_hand IS DISTINCT FROM s.on_hand"
                )
            ]
            agents = dict(
                db.execute(
                    "SELECT agent_id, acked_seq FROM agents WHERE agent_id = ANY(%s)", (names,)
                ).fetchall()
            )
            gaps = db.execute("SELECT count(*) FROM seq_gaps WHERE closed_at IS NULL").fetchone()
        for name, last in last_seqs.items():
            if agents.get(name) != last:
                verdict.acks.append(f"{name}: acked {agents.get(name)} of {last}")
        if gaps and gaps[0]:
            verdict.acks.append(f"{gaps[0]} sequence gaps still open")
        ledger = dict(moves)
        verdict.ledger = len(moves)
        verdict.doubled = len(moves) - len(ledger)
        verdict.lost = sorted(accepted - set(ledger.values()))
        verdict.unknown = sorted(set(ledger) - stored)


class AckWatch:
    """Watches each agent's acknowledged seq two ways while a site runs.

    - The service's record (``agents.acked_seq``, polled every 50 ms) must never go back: two
      workers sharing one subscription must not overwrite each other's progress.
    - The acks on the wire are counted, with how many arrived below one already sent. Each worker
      publishes its ack after its own commit, so two workers' acks can cross on the way; acks
      are cumulative and the agent keeps the highest, so a crossing costs nothing.
    """

    def __init__(self, broker_port: int, site: str, database_url: str) -> None:
        import paho.mqtt.client as mqtt

        from warehouse.contracts.topics import PREFIX

        self.wire: dict[str, list[int]] = {}
        self.recorded: dict[str, list[int]] = {}
        self.database_url = database_url
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acks-{site}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker_port)
        self.client.subscribe(f"{PREFIX}/{site}/+/acks", qos=1)
        self.client.loop_start()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="ack-poller", daemon=True)
        self._poller.start()

    def _on_message(self, _c: object, _u: object, message: object) -> None:
        ack = json.loads(message.payload)  # type: ignore[attr-defined]
        self.wire.setdefault(ack["agent_id"], []).append(int(ack["seq"]))

    def _poll(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            while not self._stop.wait(0.05):
                for agent, seq in db.execute("SELECT agent_id, acked_seq FROM agents"):
                    seen = self.recorded.setdefault(agent, [])
                    if not seen or seen[-1] != seq:
                        seen.append(int(seq))

    def backwards(self) -> list[str]:
        """Where the service's recorded ack went back (a failure)."""
        found = []
        for agent, seqs in sorted(self.recorded.items()):
            drops = [(a, b) for a, b in itertools.pairwise(seqs) if b < a]
            if drops:
                found.append(f"acks: {agent}'s acked seq went from {drops[0][0]} to {drops[0][1]}")
        return found

    def crossed(self) -> int:
        """Acks that arrived below one the agent had already been sent."""
        return sum(
            sum(b < max(seqs[: n + 1]) for n, b in enumerate(seqs[1:]))
            for seqs in self.wire.values()
        )

    def close(self) -> None:
        self._stop.set()
        self._poller.join(5)
        self.client.loop_stop()
        self.client.disconnect()
