"""`warehouse-edge`: one way to name the config, errors that name the field, doctor's whole
error, and example configs that cannot send packets off this machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from warehouse_edge.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "deploy" / "raspberrypi").glob("*.toml"))
COMMANDS = ["run", "check-config", "doctor", "outbox", "simulate"]


def config(tmp_path: Path, params: str = "") -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
agent_id = "cli-1"
site = "WH1"
[outbox]
path = "{tmp_path / "outbox.db"}"
[[stations]]
name = "dock"
mode = "receiving"
location = "WH1-DOCK-1"
[[devices]]
name = "scanner-1"
driver = "serial"
station = "dock"
params = {{ port = "{tmp_path / "no-such-port"}"{params} }}
"""
    )
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_config_the_same_way(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--config" in result.output
    assert "WAREHOUSE_EDGE_CONFIG" in result.output


def test_the_environment_names_the_config_when_the_option_does_not(tmp_path: Path) -> None:
    path = config(tmp_path)
    by_env = CliRunner().invoke(main, ["check-config"], env={"WAREHOUSE_EDGE_CONFIG": str(path)})
    by_option = CliRunner().invoke(main, ["check-config", "--config", str(path)])
    assert by_env.exit_code == by_option.exit_code == 0
    assert "agent cli-1 at site WH1" in by_env.output


@pytest.mark.parametrize(
    ("params", "says"),
    [
        (
            ', baudrate = "fast"',
            "devices.0.params.baudrate: serial driver scanner-1: baudrate: "
            "expected an integer, received 'fast'",
        ),
        (', terminator = "TAB"', "devices.0.params.terminator:"),
        (", feedback = { ok = 7 }", "devices.0.params.feedback: "),
        (", colour = 1", "unknown parameters ['colour']"),
    ],
)
def test_check_config_checks_the_type_of_each_driver_parameter(
    tmp_path: Path, params: str, says: str
) -> None:
    result = CliRunner().invoke(main, ["check-config", "--config", str(config(tmp_path, params))])
    assert result.exit_code == 1
    assert says in result.output


def test_doctor_prints_each_devices_whole_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["doctor", "--config", str(config(tmp_path))])
    assert result.exit_code == 1
    long_path = str(tmp_path / "no-such-port")
    assert long_path in result.output  # the full path, never clipped at a column width
    assert "scanner-1:" in result.output


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_name_readers_and_brokers_by_host_name(example: Path) -> None:
    doc = tomllib.loads(example.read_text())
    hosts = [doc.get("broker", {}).get("url", "")] + [
        str(d.get("params", {}).get("host", "")) for d in doc.get("devices", [])
    ]
    for host in hosts:
        assert not any(
            part.isdigit() for part in host.replace("mqtt://", "").split(":")[0].split(".")
        ), host


def test_the_sites_rcn_rules_reach_the_station_profile(tmp_path: Path) -> None:
    from warehouse_edge.config import load_config
    from warehouse_edge.profiles import StationState, interpret

    path = config(tmp_path)
    path.write_text('rcn_region = "se"\n' + path.read_text())
    loaded = load_config(path)
    station = loaded.stations[0]
    outcome = interpret(station, StationState(station.mode), "2001234012348", loaded.rcn_region)
    (movement,) = outcome.messages
    assert movement.gtin == "02001234012348"
    bad = tmp_path / "bad.toml"
    bad.write_text('rcn_region = "atlantis"\n' + config(tmp_path).read_text())
    result = CliRunner().invoke(main, ["check-config", "--config", str(bad)])
    assert "rcn_region must be one of" in result.output
