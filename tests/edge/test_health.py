"""The agent under systemd and Prometheus: READY=1 and WATCHDOG=1 on a real notify socket, the
pings withheld while the publisher thread is wedged, and /metrics parsed with prometheus-client."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import wait_for
from warehouse import logs
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.agent import Agent
from warehouse_edge.config import AgentConfig


def agent_for(tmp_path: Path, **extra: Any) -> tuple[Agent, VirtualScanner, threading.Event]:
    config = AgentConfig(
        agent_id="dock-9",
        site="WH1",
        heartbeat_s=3600,
        broker={"url": "mqtt://127.0.0.1:1"},  # nothing listens: events stay in the outbox
        outbox={"path": tmp_path / "outbox.db"},
        stations=[{"name": "dock", "mode": "receiving", "location": "WH1-DOCK-1"}],
        devices=[{"name": "scanner-1", "driver": "virtual", "station": "dock"}],
        **extra,
    )
    scanner = VirtualScanner("scanner-1")
    agent = Agent(config, drivers={"scanner-1": scanner})
    stop = threading.Event()
    threading.Thread(target=agent.run, args=(stop,), daemon=True).start()
    return agent, scanner, stop


class NotifySocket:
    """What systemd listens on: a datagram socket; every message kept with its arrival time."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            for line in data.decode().splitlines():
                self.messages.append((time.monotonic(), line))

    def pings(self, after: float = 0.0, before: float = float("inf")) -> int:
        return sum(1 for t, m in self.messages if m == "WATCHDOG=1" and after <= t < before)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Wedge:
    """Stands in for the publisher's wake-up event: its wait blocks until released."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def wait(self, _timeout: float | None = None) -> bool:
        self.released.wait()
        return True

    def set(self) -> None:
        return None

    def clear(self) -> None:
        return None


def test_ready_then_watchdog_pings_that_stop_while_the_publisher_is_wedged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # WatchdogSec=2: a ping every second
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    agent, _scanner, stop = agent_for(tmp_path)
    try:
        wait_for(lambda: any(m == "READY=1" for _, m in notify.messages), 10)
        wait_for(lambda: notify.pings() >= 2, 10)
        real = agent.publisher._wake
        wedge = Wedge()
        agent.publisher._wake = wedge  # type: ignore[assignment]
        wedged_at = time.monotonic()
        time.sleep(4.5)
        # the swap takes effect within 0.5 s, the pings stop 1 s (half the period) later
        assert notify.pings(after=wedged_at + 2.5) == 0, notify.messages
        agent.publisher._wake = real
        wedge.released.set()
        released_at = time.monotonic()
        wait_for(lambda: notify.pings(after=released_at) >= 1, 5)
    finally:
        stop.set()
        wait_for(lambda: any(m == "STOPPING=1" for _, m in notify.messages), 10)
        notify.close()
    assert any(m.startswith("STATUS=publisher stalled") for _, m in notify.messages)


def test_without_systemd_the_agent_says_nothing_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    agent, scanner, stop = agent_for(tmp_path)
    try:
        scanner.inject("5901230001025")
        wait_for(lambda: agent.outbox.stats().pending == 1, 10)
    finally:
        stop.set()


def metrics_of(port: int) -> dict[str, list[Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_metrics_show_the_outbox_the_broker_and_each_device(tmp_path: Path) -> None:
    agent, scanner, stop = agent_for(tmp_path, metrics={"port": 0})
    try:
        wait_for(lambda: agent.metrics_port is not None, 10)
        assert agent.metrics_port is not None
        for code in ("5901230001025", "5901230001032", "5901230001070"):
            scanner.inject(code)
        wait_for(lambda: agent.outbox.stats().pending == 3, 10)
        time.sleep(0.2)
        found = metrics_of(agent.metrics_port)
    finally:
        stop.set()

    def value(name: str, **labels: str) -> float:
        return next(
            s.value for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())
        )

    assert value("warehouse_edge_outbox_depth") == 3
    assert value("warehouse_edge_outbox_oldest_age_seconds") > 0
    assert value("warehouse_edge_last_seq") == 3
    assert value("warehouse_edge_broker_connected") == 0  # nothing listens on port 1
    assert value("warehouse_edge_published") == 0
    assert value("warehouse_edge_acks") == 0
    assert value("warehouse_edge_broker_connects") == 0
    assert value("warehouse_edge_device_up", device="scanner-1", driver="virtual") == 1
    assert value("warehouse_edge_device_reads", device="scanner-1") == 3
    assert value("warehouse_edge_uptime_seconds") > 0
    assert (
        0 < value("warehouse_edge_outbox_used_bytes") < value("warehouse_edge_outbox_budget_bytes")
    )


def test_json_log_lines_of_a_scan_carry_the_agent_and_seq(tmp_path: Path) -> None:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger("warehouse_edge")
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    agent, scanner, stop = agent_for(tmp_path)
    try:
        scanner.inject("5901230001025")
        wait_for(lambda: agent.outbox.stats().pending == 1, 10)
    finally:
        stop.set()
        root.removeHandler(handler)
        root.setLevel(previous)
    docs = [json.loads(line) for line in lines]
    scan = next(d for d in docs if d.get("seq") == 1)
    assert (scan["agent_id"], scan["logger"]) == ("dock-9", "warehouse_edge.agent")
