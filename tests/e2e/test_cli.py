"""The `warehouse` command as a process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_CATALOG

COMMANDS = [
    [],
    ["serve"],
    ["ingest"],
    ["db"],
    ["db", "upgrade"],
    ["db", "check-projection"],
    ["db", "rebuild-projection"],
    ["seed"],
    ["demo"],
    ["users"],
    ["users", "create"],
    ["users", "passwd"],
    ["users", "disable"],
    ["users", "list"],
    ["users", "grant"],
    ["users", "revoke"],
    ["api-keys"],
    ["api-keys", "create"],
    ["api-keys", "list"],
    ["api-keys", "revoke"],
    ["devices"],
    ["devices", "register"],
    ["devices", "list"],
    ["devices", "revoke"],
    ["mqtt"],
    ["mqtt", "export-acl"],
    ["import"],
    ["import", "purchase-orders"],
    ["valuation"],
    ["valuation", "rebuild"],
]


def warehouse(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "warehouse")
def test_help_everywhere(command: list[str]) -> None:
    result = warehouse(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_upgrade_seed_and_check(tmp_path: Path) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert warehouse("db", "upgrade", env=env).returncode == 0
    seeded = warehouse("seed", str(DEMO_CATALOG), env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "24 locations, 36 products" in seeded.stdout
    audit = sqlite3.connect(tmp_path / "w.db").execute("SELECT action, actor, after FROM audit_log")
    (action, actor, after) = audit.fetchone()
    assert (action, actor[:4]) == ("catalog.seed", "cli:")
    assert "product:COF-250" in after
    csv_file = tmp_path / "more.csv"
    csv_file.write_text("sku,name,unit,gtins\nCSV-1,From a CSV,kg,96385074|4006381333931\n")
    assert "0 locations, 1 products" in warehouse("seed", str(csv_file), env=env).stdout
    docks = tmp_path / "docks.csv"  # locations with their GS1 keys
    docks.write_text(
        "code,name,kind,parent_code,gln,gln_extension\n"
        "WH1-DOCK-9,Dock 9,dock,WH1-RECV,5412345000013,DOCK-9\n"
    )
    assert "1 locations, 0 products" in warehouse("seed", str(docks), env=env).stdout
    keys = sqlite3.connect(tmp_path / "w.db").execute(
        "SELECT gln, gln_extension FROM locations WHERE code = 'WH1-DOCK-9'"
    )
    assert keys.fetchone() == ("5412345000013", "DOCK-9")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "locations:\n  - {code: WH1-DOCK-8, name: D8, kind: dock, parent_code: WH1-RECV,"
        " gln: '5412345000010'}\n"
    )
    refused = warehouse("seed", str(wrong), env=env)
    assert refused.returncode != 0
    assert "'5412345000010' is not a 13-digit GLN with a valid check digit" in refused.stderr
    checked = warehouse("db", "check-projection", env=env)
    assert checked.returncode == 0
    assert "matches" in checked.stdout


def test_import_purchase_orders_from_csv(tmp_path: Path) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    warehouse("db", "upgrade", env=env)
    warehouse("seed", str(DEMO_CATALOG), env=env)
    orders = tmp_path / "po.csv"
    orders.write_text(
        "ref,site,supplier,expected_date,sku,qty,lot,expiry,unit_cost_minor,sscc\n"
        "PO-1,WH1,Tea Co,2026-12-10,TEA-GRN,40,,,215,\n"
        "PO-1,WH1,Tea Co,2026-12-10,COF-250,12,L7,2027-06-30,,106141411234567897\n"
        "PO-2,WH1,Rice Ltd,,RIC-1K,5,,,,\n"
    )
    done = warehouse("import", "purchase-orders", str(orders), env=env)
    assert done.returncode == 0, done.stderr
    assert "2 purchase orders created, 0 skipped" in done.stdout
    again = warehouse("import", "purchase-orders", str(orders), env=env)
    assert "0 purchase orders created, 2 skipped" in again.stdout
    assert "skipped PO-1: purchase order 'PO-1' exists already" in again.stderr
    db = sqlite3.connect(tmp_path / "w.db")
    assert db.execute("SELECT count(*) FROM purchase_order_lines").fetchone()[0] == 3
    assert db.execute("SELECT sscc FROM packages").fetchone()[0] == "106141411234567897"
    costs = db.execute("SELECT unit_cost_minor FROM purchase_order_lines ORDER BY id").fetchall()
    assert costs == [(215,), (None,), (None,)]
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,site,supplier,sku,qty\nPO-3,WH1,X,TEA-GRN,many\n")
    refused = warehouse("import", "purchase-orders", str(bad), env=env)
    assert refused.returncode == 1
    assert f"{bad}, row 2: qty 'many' is not a number" in refused.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("ref,site,supplier,sku,qty\nPO-4,WH1,X,NOPE,1\n")
    refused = warehouse("import", "purchase-orders", str(unknown), env=env)
    assert "PO-4: lines[0].sku 'NOPE' is not a known product" in refused.stderr


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (
            "products:\n  - {sku: A, name: x, gtins: ['123']}\n",
            ".yaml",
            "products.0.gtins.0: String should match pattern",
        ),
        ("products:\n  - {sku: A}\n", ".yaml", "products.0.name: Field required"),
        (
            "locations:\n  - {code: X, name: x, kind: bin, parent_code: NOPE}\n",
            ".yaml",
            "parent_code 'NOPE' is not a known location (parent_code)",
        ),
        ("{{{", ".yaml", "not valid YAML"),
        ("a,b\n1,2\n", ".csv", "needs a 'sku' column"),
        ("x", ".txt", "expected a .yaml, .yml or .csv file"),
    ],
)
def test_seed_errors_name_file_entry_and_field(
    tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    warehouse("db", "upgrade", env=env)
    bad = tmp_path / f"bad{suffix}"
    bad.write_text(content)
    result = warehouse("seed", str(bad), env=env)
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert message in result.stderr


def test_config_file_and_precedence(tmp_path: Path) -> None:
    config = tmp_path / "warehouse.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "from-file.db"}"\n')
    assert warehouse("--config", str(config), "db", "upgrade").returncode == 0
    assert (tmp_path / "from-file.db").exists()
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'from-env.db'}"}
    assert warehouse("--config", str(config), "db", "upgrade", env=env).returncode == 0
    assert (tmp_path / "from-env.db").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('ingest_batch_size = "lots"\n')
    result = warehouse("--config", str(bad), "db", "upgrade")
    assert result.returncode == 2
    assert "ingest_batch_size" in result.stderr
    missing = warehouse("--config", str(tmp_path / "none.toml"), "db", "upgrade")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


@pytest.mark.slow
def test_demo_runs_prints_curl_commands_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse.cli",
            "demo",
            "--dir",
            str(tmp_path),
            "--port",
            "0",
            "--mqtt-port",
            "0",
            "--rate",
            "40",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Press Ctrl-C" in x for x in lines):
            lines.append(proc.stdout.readline())
        curls = [x.strip() for x in lines if x.strip().startswith("curl ")]
        assert len(curls) == 3, "".join(lines)
        exports = [x.strip() for x in lines if x.strip().startswith("export TOKEN=")]
        assert len(exports) == 1, "".join(lines)
        token = exports[0].removeprefix("export TOKEN=")
        assert all('-H "Authorization: Bearer $TOKEN"' in c for c in curls)
        url = re.search(r"'(http://[^']+)'", curls[2]).group(1)  # type: ignore[union-attr]
        base = url.split("/api/")[0]
        time.sleep(4)  # the simulated devices publish through the broker meanwhile

        def get(target: str, **headers: str) -> Any:
            request = urllib.request.Request(target, headers=headers)
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
                return json.load(response)

        for curl in curls:
            target = re.search(r"'(http://[^']+)'", curl).group(1)  # type: ignore[union-attr]
            get(target, Authorization=f"Bearer {token}")
            with pytest.raises(urllib.error.HTTPError) as refused:
                get(target)
            assert refused.value.code == 401
            refused.value.close()
        movements = get(f"{base}/api/v1/movements?limit=5", Authorization=f"Bearer {token}")
        assert movements["items"]
        assert all(m["origin"] == "mqtt" for m in movements["items"])
        # the demo registers its agents, so their events are applied, not unknown_agent
        agents = get(f"{base}/api/v1/agents", Authorization=f"Bearer {token}")
        assert len(agents) == 3
        # the store sells: within two minutes a register's session is closed, its Z report
        # has the register's sales, and the receipts are on paper (files) a person can read
        closed: list[Any] = []
        deadline = time.monotonic() + 110
        while not closed and time.monotonic() < deadline:
            time.sleep(2)
            sessions = get(
                f"{base}/api/v1/pos/sessions?status=closed", Authorization=f"Bearer {token}"
            )
            closed = sessions["items"]
        assert closed, "no register closed a session in time"
        z = get(
            f"{base}/api/v1/pos/sessions/{closed[0]['session_id']}", Authorization=f"Bearer {token}"
        )
        assert (z["kind"], z["source"]) == ("Z", "edge")
        assert z["sales"] > 0
        assert z["cash_difference_minor"] == 0
        sold = get(f"{base}/api/v1/pos/sales?source=edge&limit=1", Authorization=f"Bearer {token}")
        assert sold["items"]
        receipts = sorted((tmp_path / "receipts").glob("ST1-REG-*/*.txt"))
        text = next(r.read_text() for r in receipts if "No. " in r.read_text())
        assert "TOTAL EUR" in text
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "demo stopped" in rest


NEED_SCHEMA = [
    ["seed", str(DEMO_CATALOG)],
    ["db", "check-projection"],
    ["db", "rebuild-projection"],
    ["serve", "--port", "0"],
    ["ingest"],
]


@pytest.mark.parametrize("command", NEED_SCHEMA, ids=lambda c: " ".join(c[:2]))
def test_no_schema_says_what_to_run_in_one_line(tmp_path: Path, command: list[str]) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = warehouse(*command, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("has no schema yet: run `warehouse db upgrade`")
    )


def test_an_old_schema_says_what_to_run(tmp_path: Path) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}"}
    assert warehouse("db", "upgrade", "--revision", "0002", env=env).returncode == 0
    result = warehouse("db", "check-projection", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "is at schema revision 0002; this version needs" in last
    assert last.endswith("run `warehouse db upgrade`")


@pytest.mark.parametrize("command", [["db", "upgrade"], ["seed", str(DEMO_CATALOG)]])
def test_an_unreachable_database_is_one_line_with_the_password_masked(command: list[str]) -> None:
    env = {"WAREHOUSE_DATABASE_URL": "postgresql://ops:s3cret@127.0.0.1:1/warehouse"}
    result = warehouse(*command, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert "postgresql://ops:***@127.0.0.1:1/warehouse is not reachable" in result.stderr


def test_alembic_is_quiet_and_the_database_is_named_masked(tmp_path: Path) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    upgraded = warehouse("db", "upgrade", env=env)
    assert "alembic" not in upgraded.stderr
    seeded = warehouse("seed", str(DEMO_CATALOG), env=env)
    assert f"database sqlite:///{tmp_path / 'w.db'}" in seeded.stderr


def ingest_for_a_moment(env: dict[str, str], *options: str) -> str:
    """Run `warehouse ingest` for 3 s on a fresh database; its standard error."""
    warehouse("db", "upgrade", env=env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse.cli", *options, "ingest"],
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    return err


def test_the_ingest_worker_logs_its_broker_masked(tmp_path: Path) -> None:
    env = {
        "WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "WAREHOUSE_MQTT_URL": "mqtt://ingest:t0psecret@127.0.0.1:1/",
    }
    err = ingest_for_a_moment(env)
    assert "mqtt://ingest:***@127.0.0.1:1/" in err
    assert "t0psecret" not in err


def test_the_readme_seed_command_names_a_file_that_exists() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for line in readme.splitlines():
        if line.strip().startswith("warehouse seed "):
            path = line.split()[2]
            assert (Path(__file__).resolve().parents[2] / path).is_file(), line


def test_users_keys_and_devices_from_the_command_line(tmp_path: Path) -> None:
    env = {
        "WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "WAREHOUSE_MQTT_URL": "mqtt://warehouse-ingest:ingest-secret-1@127.0.0.1:1883",
    }
    assert warehouse("db", "upgrade", env=env).returncode == 0

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "warehouse.cli", *args],
            check=False, capture_output=True, text=True, timeout=60, input=stdin,
            env={**os.environ, **env},
        )  # fmt: skip

    created = run("users", "create", "alice", "--grant", "admin@*", "--password-stdin",
                  stdin="a long enough password\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "user alice created (admin@*)" in created.stdout
    short = run("users", "create", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert "at least 12 characters" in short.stderr
    bad_grant = run("users", "create", "bob", "--grant", "boss@WH1", "--password-stdin", stdin="x")
    assert bad_grant.returncode == 2
    assert "unknown role 'boss'" in bad_grant.stderr
    assert (
        run(
            "users", "create", "bob", "--password-stdin", stdin="another long password\n"
        ).returncode
        == 0
    )
    assert "manager@ST1 granted to bob" in run("users", "grant", "bob", "manager@ST1").stdout
    listed = run("users", "list").stdout
    assert "alice" in listed
    assert "manager@ST1" in listed
    assert run("users", "disable", "bob").returncode == 0
    assert "disabled" in run("users", "list").stdout
    assert (
        run(
            "users", "passwd", "bob", "--password-stdin", stdin="a third long password\n"
        ).returncode
        == 0
    )
    assert run("users", "revoke", "bob", "manager@ST1").returncode == 0
    missing = run("users", "passwd", "nobody", "--password-stdin", stdin="a long enough password\n")
    assert missing.returncode == 1
    assert "no user 'nobody'" in missing.stderr

    key = run("api-keys", "create", "erp", "--grant", "staff@WH1", "--expires-days", "30")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip()
    assert secret.startswith("whk_")
    key_id = secret.removeprefix("whk_").split(".")[0]
    keys = run("api-keys", "list").stdout
    assert key_id in keys
    assert secret not in keys
    assert run("api-keys", "revoke", key_id).returncode == 0
    assert "revoked" in run("api-keys", "list").stdout

    device = run("devices", "register", "dock-1", "--site", "WH1")
    assert device.returncode == 0, device.stderr
    password = device.stdout.split("password = ")[1].strip()
    assert run("devices", "register", "dock-1", "--site", "WH1").returncode == 1  # twice
    bad = run("devices", "register", "dock/1", "--site", "WH1")
    assert bad.returncode == 2
    assert "one MQTT topic level" in bad.stderr
    assert run("devices", "register", "door-2", "--site", "WH1").returncode == 0
    assert run("devices", "revoke", "door-2").returncode == 0
    exported = run("mqtt", "export-acl", str(tmp_path / "mqtt"))
    assert exported.returncode == 0, exported.stderr
    passwd = (tmp_path / "mqtt" / "passwd").read_text()
    assert passwd.startswith("warehouse-ingest:$7$101$")
    assert "dock-1:$7$" in passwd
    assert "door-2" not in passwd  # revoked
    assert password not in passwd
    assert "ingest-secret-1" not in passwd
    # mosquitto_passwd's own check of our hash, when it is installed
    if shutil.which("mosquitto_passwd"):
        line = next(x for x in passwd.splitlines() if x.startswith("dock-1:"))
        from warehouse.access.adapters.credentials import mosquitto_verify

        assert mosquitto_verify(line.split(":", 1)[1], password)
    audit = (
        sqlite3.connect(tmp_path / "w.db").execute("SELECT action, actor FROM audit_log").fetchall()
    )
    actions = {a for a, _ in audit}
    expected = {"user.create", "user.grant", "user.disable", "user.password", "user.revoke",
                "api_key.create", "api_key.revoke", "device.register", "device.revoke"}  # fmt: skip
    assert expected <= actions
    assert all(actor.startswith("cli:") for _, actor in audit)


def test_production_refuses_to_serve_without_a_signing_secret(tmp_path: Path) -> None:
    env = {"WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert warehouse("db", "upgrade", env=env).returncode == 0
    production = {**env, "WAREHOUSE_ENVIRONMENT": "production"}
    missing = warehouse("serve", "--port", "0", env=production)
    assert missing.returncode == 1
    assert "production needs WAREHOUSE_JWT_SECRET" in missing.stderr
    short = warehouse("serve", "--port", "0", env={**production, "WAREHOUSE_JWT_SECRET": "short"})
    assert short.returncode == 1
    assert "it needs at least 32" in short.stderr
    assert "short" not in short.stderr  # the secret itself is never shown
    secret_file = tmp_path / "secret"
    secret_file.write_text("x" * 8)
    from_file = warehouse(
        "serve", "--port", "0", env={**production, "WAREHOUSE_JWT_SECRET_FILE": str(secret_file)}
    )
    assert from_file.returncode == 1
    assert "8 bytes" in from_file.stderr


def test_json_logs_are_one_object_per_line_and_masked(tmp_path: Path) -> None:
    env = {
        "WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "WAREHOUSE_MQTT_URL": "mqtt://ingest:t0psecret@127.0.0.1:1/",
    }
    err = ingest_for_a_moment(env, "--log-format", "json")
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    assert any("mqtt://ingest:***@127.0.0.1:1/" in line["message"] for line in lines)
    assert "t0psecret" not in err


def test_forwarded_for_from_an_untrusted_peer_gets_no_fresh_login_budget(tmp_path: Path) -> None:
    """With no trusted proxies, a client on loopback that names another address in
    X-Forwarded-For is still counted as itself: the server must not rewrite the peer before the
    service's own check (uvicorn does by default for 127.0.0.1)."""
    from tests.integration.test_broker_acl import free_port

    env = {
        "WAREHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "WAREHOUSE_LOGIN_ADDRESS_LIMIT": "3/minute",
        "WAREHOUSE_JWT_SECRET": "x" * 40,
    }
    assert warehouse("db", "upgrade", env=env).returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "serve stopped"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        statuses = []
        for n in range(6):
            request = urllib.request.Request(
                f"{base}/api/v1/auth/login",
                data=json.dumps({"username": "nobody", "password": "wrong-password"}).encode(),
                headers={"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n}"},
            )
            try:
                urllib.request.urlopen(request, timeout=10).close()
                statuses.append(200)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429, 429]


def test_the_demo_says_it_reuses_earlier_data_and_fresh_starts_over(tmp_path: Path) -> None:
    def demo(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "warehouse.cli", "demo", "--dir", str(tmp_path), "--port", "0",
             "--mqtt-port", "0", "--duration", "0.5", *extra],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout + done.stderr

    first = demo()
    assert "reusing" not in first
    assert (tmp_path / "warehouse.db").exists()
    again = demo()
    assert f"reusing the demo's data in {tmp_path}/" in again
    assert "--fresh" in again
    (tmp_path / "notes.txt").write_text("mine")
    fresh = demo("--fresh")
    assert "starting over" in fresh
    assert "reusing" not in fresh
    assert (tmp_path / "notes.txt").read_text() == "mine"  # only the demo's own files go
