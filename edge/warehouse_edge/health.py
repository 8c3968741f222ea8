"""The agent seen from outside: systemd's notify protocol and watchdog, and Prometheus metrics.

Under systemd (``Type=notify``, ``WatchdogSec=``) the agent says ``READY=1`` once its outbox is
open and its publisher and devices are started, and then ``WATCHDOG=1`` every half watchdog
period, but only while both its main loop (which sends the ping) and its publisher thread (which
must have gone round its loop within the last half period) are alive: a wedged publisher stops
the pings and systemd restarts the agent. Outside systemd (no ``NOTIFY_SOCKET``) all of this is
silent. The notify protocol is systemd-watchdog's.

The metrics endpoint is off unless ``[metrics] port`` is set; it reads the agent's state when
scraped, so nothing on the read path pays for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from systemd_watchdog.systemd_watchdog import WatchDog

if TYPE_CHECKING:
    from warehouse_edge.config import Device
    from warehouse_edge.outbox import Outbox
    from warehouse_edge.publisher import Publisher
    from warehouse_edge.supervisor import Supervisor

log = logging.getLogger(__name__)


class Watchdog:
    """READY=1 and WATCHDOG=1 for systemd, the pings only while every part is alive."""

    def __init__(self, publisher_loop_at: Callable[[], float]) -> None:
        # the library opens a socket whether or not systemd listens: only make one when it does
        self._sock: socket.socket | None = None
        self._dog: WatchDog | None = None
        if os.environ.get("NOTIFY_SOCKET"):
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._dog = WatchDog(sock=self._sock)
        self._publisher_loop_at = publisher_loop_at
        self._withheld = False

    @property
    def interval_s(self) -> float:
        """How often the main loop should call :meth:`tick` (1 s when there is no watchdog)."""
        if self._dog is None or self._dog.timeout_td.days >= 1:
            return 1.0
        return min(1.0, self._dog.timeout / 4e6)

    def ready(self, status: str) -> None:
        if self._dog is not None:
            self._dog.ready()
            self._dog.status(status)

    def tick(self) -> None:
        """From the main loop: ping if the publisher is alive too."""
        if self._dog is None:
            return
        limit = max(self._dog.timeout / 2e6, 1.0)
        stalled = time.monotonic() - self._publisher_loop_at()
        if stalled > limit:
            if not self._withheld:
                log.error(
                    "the publisher has not gone round its loop for %.0f s: watchdog pings stop "
                    "(systemd restarts the agent)",
                    stalled,
                )
                self._dog.status(f"publisher stalled for {stalled:.0f} s")
            self._withheld = True
            return
        if self._withheld:
            log.info("the publisher is going again: watchdog pings resume")
            self._withheld = False
        self._dog.ping()

    def stopping(self) -> None:
        """STOPPING=1 (the library has no call for it), and the socket closed."""
        if self._dog is not None and self._sock is not None:
            with contextlib.suppress(OSError):
                self._dog._send("STOPPING=1\n")
            self._sock.close()
            self._dog = self._sock = None


class Observed(Protocol):
    """What the metrics read of an agent (``warehouse_edge.agent.Agent``)."""

    outbox: Outbox
    publisher: Publisher
    supervisors: dict[str, Supervisor]
    devices: dict[str, Device]

    def uptime_s(self) -> float: ...


class AgentCollector(Collector):
    """The agent's state as Prometheus metrics, read when scraped."""

    def __init__(self, agent: Observed) -> None:
        self.agent = agent

    def collect(self) -> Iterator[Metric]:
        agent = self.agent
        stats = agent.outbox.stats()
        publisher = agent.publisher
        yield _gauge("outbox_depth", "Events in the outbox not yet acknowledged", stats.pending)
        yield _gauge(
            "outbox_oldest_age_seconds",
            "Age of the oldest unacknowledged event (0 when there is none)",
            stats.oldest_pending_age_s or 0.0,
        )
        yield _gauge("outbox_used_bytes", "Bytes the outbox database uses", stats.used_bytes)
        yield _gauge("outbox_budget_bytes", "The outbox's size budget", stats.budget_bytes)
        yield _gauge("last_seq", "The last seq the outbox gave out", stats.last_seq)
        yield _counter(
            "outbox_refused",
            "Reads refused because the outbox could not store them (budget or disk full)",
            agent.outbox.refused,
        )
        yield _gauge(
            "last_acked_seq", "The highest seq the service acknowledged", stats.last_acked_seq
        )
        yield _counter("published", "Events published (first sends)", publisher.published)
        yield _counter(
            "resent", "Events published again after their ack timed out", publisher.resent
        )
        yield _counter("acks", "Acknowledgements received from the service", publisher.acks)
        yield _counter("broker_connects", "Connections made to the broker", publisher.connects)
        yield _gauge(
            "broker_connected", "1 while connected to the broker", int(publisher.connected.is_set())
        )
        yield _gauge("uptime_seconds", "Seconds since the agent started", agent.uptime_s())
        up = GaugeMetricFamily(
            "warehouse_edge_device_up", "1 while the device is up", labels=["device", "driver"]
        )
        reads = CounterMetricFamily(
            "warehouse_edge_device_reads", "Reads from the device", labels=["device"]
        )
        errors = CounterMetricFamily(
            "warehouse_edge_device_errors", "Device errors and rejected reads", labels=["device"]
        )
        reconnects = CounterMetricFamily(
            "warehouse_edge_device_reconnects",
            "Times the device was opened again",
            labels=["device"],
        )
        for name, supervisor in agent.supervisors.items():
            health = supervisor.health
            up.add_metric([name, agent.devices[name].driver], int(health.state == "up"))
            reads.add_metric([name], health.reads)
            errors.add_metric([name], health.errors + health.rejected)
            reconnects.add_metric([name], health.reconnects)
        yield from (up, reads, errors, reconnects)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"warehouse_edge_{name}", doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"warehouse_edge_{name}", doc, value=value)


def serve_metrics(agent: Observed, host: str, port: int) -> Any:
    """Serve ``/metrics`` on ``host:port`` in a thread; return the server (``.shutdown()``)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(AgentCollector(agent))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", host, server.server_port)
    return server
