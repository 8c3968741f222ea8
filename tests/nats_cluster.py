"""nats-server nodes of the test's own on spare loopback ports: one, or a cluster of three, with
JetStream, an MQTT listener, and the mappings (and optionally the users) that
``warehouse nats export`` writes. A node can be SIGKILLed and started again on its own store."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from warehouse.access.adapters.nats_files import mappings_conf

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NatsNode:
    """One nats-server process; ``include`` files are put beside its configuration."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port, self.mqtt_port, self.http_port, self.route_port = (_port() for _ in range(4))
        self.conf = self.dir / "nats.conf"
        self.log = self.dir / "nats.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write(
        self,
        routes: list[int],
        partitions: int,
        users: str | None,
        extra: str = "",
        domain: str | None = None,
    ) -> None:
        """The node's configuration; ``extra`` is added as is (leafnodes). A JetStream
        ``domain`` keeps a leaf node's JetStream apart from its hub's (the nodes of one cluster
        share theirs)."""
        (self.dir / "mappings.conf").write_text(mappings_conf(partitions))
        auth = ""
        if users is not None:
            (self.dir / "users.conf").write_text(users)
            auth = "include users.conf\n"
        cluster = ""
        if routes:
            listed = ", ".join(f"nats-route://127.0.0.1:{p}" for p in routes)
            cluster = (
                f"cluster {{ name: warehouse, listen: 127.0.0.1:{self.route_port}, "
                f"routes: [{listed}] }}\n"
            )
        self.conf.write_text(
            f"server_name: {self.name}\nlisten: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.http_port}\n"
            f'jetstream {{ store_dir: "{self.dir}/js", max_memory_store: 64MB, '
            f"max_file_store: 2GB{f', domain: {domain}' if domain else ''} }}\n"
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_port} }}\n"
            f"{cluster}include mappings.conf\n{auth}{extra}"
        )

    def start(self) -> None:
        """Start (again): ready once it takes MQTT clients (a node that rejoins a running
        cluster reports healthy only when it has caught up with every stream and consumer)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [NATS_SERVER, "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while not self.listening():
            assert self.proc.poll() is None, f"{self.name} exited:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.name} did not start"
            time.sleep(0.05)

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.mqtt_port), timeout=1):
                return True
        except OSError:
            return False

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.http_port}/healthz", timeout=1
            ) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not healthy:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no goodbye to its clients or its peers."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    def stream_leader(self, stream: str) -> str | None:
        """The server name leading ``stream``, as this node's monitoring port reports it."""
        url = f"http://127.0.0.1:{self.http_port}/jsz?streams=true"
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                info = json.load(reply)
        except OSError:
            return None
        for account in info.get("account_details") or []:
            for detail in account.get("stream_detail") or []:
                if detail.get("name") == stream:
                    leader = (detail.get("cluster") or {}).get("leader")
                    return str(leader) if leader else None
        return None


class NatsCluster:
    """``size`` nodes routed to each other (one node: no cluster block)."""

    def __init__(
        self, workdir: Path, size: int = 3, *, partitions: int = 8, users: str | None = None
    ) -> None:
        self.nodes = [NatsNode(workdir, f"n{i + 1}") for i in range(size)]
        for node in self.nodes:
            routes = [other.route_port for other in self.nodes if other is not node]
            node.write(routes, partitions, users)

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (WAREHOUSE_NATS_URL)."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            with node.log.open("ab") as out:
                node.proc = subprocess.Popen(
                    [NATS_SERVER, "-c", str(node.conf)], stdout=out, stderr=subprocess.STDOUT
                )
        for node in self.nodes:
            node.wait_healthy(30)
        self.wait_formed(60)

    def wait_formed(self, timeout: float) -> None:
        """Until JetStream's meta group has a leader and every peer current: before that, a
        stream with three replicas finds "no suitable peers for placement"."""
        deadline = time.monotonic() + timeout
        while not self._formed():
            assert time.monotonic() < deadline, "the NATS cluster did not form"
            time.sleep(0.2)

    def _formed(self) -> bool:
        """Every node names the same meta leader, and the leader sees every peer current."""
        if len(self.nodes) == 1:
            return True
        views = {}
        for node in self.nodes:
            try:
                url = f"http://127.0.0.1:{node.http_port}/jsz"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    views[node.name] = json.load(reply).get("meta_cluster") or {}
            except OSError:
                return False
        leaders = {view.get("leader") for view in views.values()}
        if len(leaders) != 1 or None in leaders or "" in leaders:
            return False
        peers = views.get(str(leaders.pop()), {}).get("replicas") or []
        current = [p for p in peers if p.get("current") and not p.get("offline")]
        return len(current) == len(self.nodes) - 1

    def node(self, name: str) -> NatsNode:
        return next(n for n in self.nodes if n.name == name)

    def stream_leader(self, stream: str) -> NatsNode | None:
        for node in self.nodes:
            if node.proc is not None:
                leader = node.stream_leader(stream)
                if leader is not None:
                    return self.node(leader)
        return None

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
