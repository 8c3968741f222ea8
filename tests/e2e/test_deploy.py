"""What deploy/ ships, checked with the real tools: shellcheck on every script, systemd-analyze
on every unit, install.sh into a staging root (twice: the same tree; --dry-run: nothing;
--uninstall: the outbox stays), nginx -t on the proxy config, and the shipped Mosquitto config,
on a spare loopback port with certificates made here, taking an agent and refusing a stranger."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import require
from tests.integration.test_broker_acl import (
    INGEST_PASSWORD,
    INGEST_USER,
    SITE,
    Client,
    export,
    free_port,
    register,
    tls_files,
)
from warehouse.bootstrap import Service

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PI = DEPLOY / "raspberrypi"
SERVER = DEPLOY / "server"
VENV_BIN = Path(sys.executable).parent  # the warehouse and warehouse-edge of this checkout
__all__ = ["tls_files"]  # a fixture of test_broker_acl used here


def tool(name: str, *candidates: str) -> str:
    found = shutil.which(name) or next((c for c in candidates if Path(c).exists()), None)
    require(name, found is not None, f"{name} is missing (scripts/deploy-tools.sh installs it)")
    assert found is not None
    return found


def test_shellcheck_passes_every_script() -> None:
    shellcheck = tool("shellcheck")
    scripts = sorted([*DEPLOY.rglob("*.sh"), *(ROOT / "scripts").glob("*.sh"), ROOT / ".ci/run"])
    assert PI / "install.sh" in scripts
    result = subprocess.run(
        [shellcheck, *map(str, scripts)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    units = sorted(DEPLOY.rglob("*.service"))
    assert {u.name for u in units} >= {
        "warehouse-edge.service",
        "warehouse-api@.service",
        "warehouse-ingest@.service",
    }
    checked = []
    for unit in units:
        # the binaries live in the installed venvs; here, in this checkout's
        text = re.sub(r"/opt/warehouse(-edge)?/venv/bin/", f"{VENV_BIN}/", unit.read_text())
        name = unit.name.replace("@.", "@1.")  # a template is verified as an instance
        (tmp_path / name).write_text(text)
        checked.append(str(tmp_path / name))
    result = subprocess.run(
        [analyze, "verify", *checked], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # not even a warning
    edge = (PI / "warehouse-edge.service").read_text()
    wanted = [
        "Type=notify",
        "Restart=always",
        "WatchdogSec=",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/warehouse-edge",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "DeviceAllow=char-ttyACM rw",
        "DeviceAllow=char-input rw",
    ]
    assert [line for line in wanted if line not in edge] == []


def tree(root: Path) -> dict[str, tuple[str, ...]]:
    """Every path under ``root`` with its type, mode and content (or link target)."""
    out: dict[str, tuple[str, ...]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        mode = oct(path.lstat().st_mode & 0o7777)
        if path.is_symlink():
            out[rel] = ("link", mode, os.readlink(path))
        elif path.is_dir():
            out[rel] = ("dir", mode)
        else:
            out[rel] = ("file", mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def install(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(PI / "install.sh"), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_install_into_a_staging_root_twice_gives_the_same_tree(tmp_path: Path) -> None:
    staged = ["--no-venv", "--example", "register", "--can-bitrate", "500000"]
    first, again = tmp_path / "a", tmp_path / "b"
    install("--root", str(first), *staged)
    once = tree(first)
    second_run = install("--root", str(first), *staged)
    assert tree(first) == once
    assert "kept /etc/warehouse-edge/agent.toml" in second_run.stdout
    install("--root", str(again), *staged)
    assert tree(again) == once  # and the same from scratch
    assert once["etc/warehouse-edge/agent.toml"][1] == "0o640"
    assert once["etc/systemd/system/multi-user.target.wants/warehouse-edge.service"] == (
        "link",
        "0o777",
        "/etc/systemd/system/warehouse-edge.service",
    )
    assert (first / "etc/systemd/network/80-can0.network").read_text().count("BitRate=500000")
    assert (first / "boot/firmware/config.txt").read_text().count("dtoverlay=mcp2515-can0") == 1
    assert (first / "etc/warehouse-edge/agent.toml").read_text() == (
        PI / "register.toml"
    ).read_text()


def test_dry_run_changes_nothing_and_uninstall_keeps_the_config_and_the_outbox(
    tmp_path: Path,
) -> None:
    dry = tmp_path / "dry"
    shown = install("--root", str(dry), "--dry-run", "--example", "forklift")
    assert tree(dry) == {}
    assert "would run: install -D -m 0644" in shown.stdout
    assert "pip install" in shown.stdout  # the venv step is shown too
    assert "installed" not in shown.stdout.replace("pip install", "")  # nothing was
    assert "staged" not in shown.stdout
    assert shown.stdout.rstrip().endswith("dry run: nothing was changed")
    root = tmp_path / "pi"
    install("--root", str(root), "--no-venv")
    outbox = root / "var/lib/warehouse-edge/outbox.db"
    outbox.write_bytes(b"events not yet sent")
    install("--root", str(root), "--uninstall")
    left = tree(root)
    assert "etc/systemd/system/warehouse-edge.service" not in left
    assert "etc/systemd/system/multi-user.target.wants/warehouse-edge.service" not in left
    assert "opt/warehouse-edge" not in left
    assert outbox.read_bytes() == b"events not yet sent"
    assert "etc/warehouse-edge/agent.toml" in left


def test_install_says_how_to_use_it_and_refuses_bad_options() -> None:
    assert "--root DIR" in install("--help").stdout
    bad = subprocess.run(
        ["bash", str(PI / "install.sh"), "--example", "moon"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "--example is dock-door, pick-station, register or forklift" in bad.stderr


def test_every_example_config_checks() -> None:
    examples = sorted(PI.glob("*.toml"))
    assert {p.stem for p in examples} >= {"dock-door", "pick-station", "register", "forklift"}
    for example in examples:
        result = subprocess.run(
            [str(VENV_BIN / "warehouse-edge"), "check-config", "--config", str(example)],
            check=False,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_nginx_accepts_the_proxy_config(tmp_path: Path, tls_files: dict[str, Path]) -> None:
    nginx = tool("nginx", "/usr/sbin/nginx")
    site = (SERVER / "nginx/warehouse.conf").read_text()
    site = site.replace("/etc/ssl/warehouse/stock.crt", str(tls_files["server_cert"]))
    site = site.replace("/etc/ssl/warehouse/stock.key", str(tls_files["server_key"]))
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n  access_log off;\n  {temp}\n  include {tmp_path / 'site.conf'};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "proxy_buffering off" in site  # the stock stream is passed through as it comes


@pytest.mark.mosquitto
def test_mosquitto_with_the_shipped_config_takes_an_agent_and_refuses_strangers(
    seeded: Service, broker_dir: Path, tls_files: dict[str, Path]
) -> None:
    tmp_path = broker_dir  # the broker runs as the mosquitto user, as Debian's does
    mosquitto = tool("mosquitto", "/usr/sbin/mosquitto")
    passwords = register(seeded, "wh1-dock-1", "wh1-dock-2")
    export(seeded.settings.database_url, tmp_path / "acl")
    local, agents = free_port(), free_port()
    conf = (SERVER / "mosquitto/warehouse.conf").read_text()
    for shipped, here in (
        ("/etc/mosquitto/warehouse/passwd", tmp_path / "acl/passwd"),
        ("/etc/mosquitto/warehouse/acl", tmp_path / "acl/acl"),
        ("/etc/mosquitto/certs/ca.crt", tls_files["ca"]),
        ("/etc/mosquitto/certs/broker.crt", tls_files["server_cert"]),
        ("/etc/mosquitto/certs/broker.key", tls_files["server_key"]),
        ("/var/lib/mosquitto/", f"{tmp_path}/"),
        ("listener 1883 127.0.0.1", f"listener {local} 127.0.0.1"),
        ("listener 8883", f"listener {agents} 127.0.0.1"),
    ):
        assert str(shipped) in conf, shipped
        conf = conf.replace(str(shipped), str(here))
    (tmp_path / "mosquitto.conf").write_text(conf + "user mosquitto\n")
    log = (tmp_path / "mosquitto.log").open("w")
    proc = subprocess.Popen(
        [mosquitto, "-c", str(tmp_path / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT
    )
    clients: list[Client] = []
    try:
        for port in (local, agents):
            _wait_listening(port, proc, tmp_path / "mosquitto.log")
        ca = ssl.create_default_context(cafile=str(tls_files["ca"]))

        def client(port: int, user: str | None, password: str | None, tls: bool) -> Client:
            made = Client(port, user, password, ca if tls else None)
            clients.append(made)
            return made

        assert client(agents, "wh1-dock-1", passwords["wh1-dock-1"], True).connect()
        assert not client(agents, None, None, True).connect()  # anonymous
        assert not client(agents, "wh1-dock-1", "guessed", True).connect()
        assert not client(agents, "wh1-dock-1", passwords["wh1-dock-1"], False).connect()  # no TLS
        assert client(local, INGEST_USER, INGEST_PASSWORD, False).connect()
        assert not client(local, None, None, False).connect()
        # an agent cannot knock another off by taking its client id: on the agents' listener
        # the client id is the username
        victim = Client(agents, "wh1-dock-2", passwords["wh1-dock-2"], ca, "edge-WH1-wh1-dock-2")
        clients.append(victim)
        assert victim.connect()
        thief = Client(agents, "wh1-dock-1", passwords["wh1-dock-1"], ca, "edge-WH1-wh1-dock-2")
        clients.append(thief)
        assert thief.connect()
        assert not victim.disconnected.wait(2)
        # while on the local listener the ingest workers keep their own ids (a shared group)
        first = Client(local, INGEST_USER, INGEST_PASSWORD, None, "ingest-a")
        second = Client(local, INGEST_USER, INGEST_PASSWORD, None, "ingest-b")
        clients += [first, second]
        assert first.connect()
        assert second.connect()
        assert not first.disconnected.wait(1)
    finally:
        for made in clients:
            made.close()
        proc.terminate()
        proc.wait(10)
        log.close()
    assert SITE == "WH1"


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)


def test_the_shipped_nats_configs_check(tmp_path: Path, tls_files: dict[str, Path]) -> None:
    """The cluster node's and the store leaf's configs, with what `warehouse nats export`
    writes beside them and this test's certificates, pass `nats-server -t`."""
    from warehouse.access.adapters.credentials import nats_hash
    from warehouse.access.adapters.nats_files import leafnodes_conf, mappings_conf, users_conf

    nats_server = tool("nats-server", "/usr/sbin/nats-server")
    (tmp_path / "warehouse").mkdir()
    for name, text in (
        ("users.conf", users_conf([], "warehouse-ingest", nats_hash("x", cost=4))),
        ("mappings.conf", mappings_conf(8)),
        ("leafnodes.conf", leafnodes_conf(nats_hash("y", cost=4))),
    ):
        (tmp_path / "warehouse" / name).write_text(text)
    for shipped in ("warehouse.conf", "leaf.conf"):
        conf = (SERVER / "nats" / shipped).read_text()
        for path, here in (
            ("/etc/nats-server/certs/server.crt", tls_files["server_cert"]),
            ("/etc/nats-server/certs/server.key", tls_files["server_key"]),
            ("/etc/nats-server/certs/ca.crt", tls_files["ca"]),
            ("/var/lib/nats-server", tmp_path / "js"),
        ):
            conf = conf.replace(path, str(here))
        (tmp_path / shipped).write_text(conf)
        result = subprocess.run(
            [nats_server, "-t", "-c", str(tmp_path / shipped)],
            env={**os.environ, "NATS_NODE": "nats-1"},
            check=False,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert result.returncode == 0, shipped + ": " + result.stdout + result.stderr
        assert "include warehouse/users.conf" in conf


def test_alerts_and_the_dashboard_name_only_metrics_that_exist() -> None:
    from prometheus_client import REGISTRY

    from warehouse.core import metrics  # noqa: F401  each module registers its own
    from warehouse.core.api import request_metrics  # noqa: F401
    from warehouse.exceptions.adapters import metrics as exceptions_metrics
    from warehouse.ingest.worker import metrics as ingest_metrics  # noqa: F401

    exceptions_metrics.register()
    known = {m.name for m in REGISTRY.collect() if m.name.startswith("warehouse_")}
    edge = (ROOT / "edge/warehouse_edge/health.py").read_text()
    known |= {f"warehouse_edge_{n}" for n in re.findall(r'_(?:gauge|counter)\(\s*"(\w+)"', edge)}
    known |= set(re.findall(r'"(warehouse_edge_\w+)"', edge))
    rules = yaml.safe_load((SERVER / "prometheus/warehouse-alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = (SERVER / "grafana/warehouse-dashboard.json").read_text()
    import json

    exprs += [t["expr"] for p in json.loads(dashboard)["panels"] for t in p["targets"]]
    named = {n for e in exprs for n in re.findall(r"\bwarehouse_\w+", e)}
    suffixes = ("_total", "_bucket", "_sum", "_count")
    unknown = {
        n
        for n in named
        if n not in known and not any(n.endswith(s) and n[: -len(s)] in known for s in suffixes)
    }
    assert unknown == set()
    assert len(named) >= 15
    scrape = yaml.safe_load((SERVER / "prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"] for j in scrape["scrape_configs"]}
    assert jobs == {"warehouse-api", "warehouse-ingest", "warehouse-edge"}
