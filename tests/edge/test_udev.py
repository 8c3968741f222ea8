"""udev rules for plugged devices: matched by vendor, product and serial, a stable link under
/dev/warehouse/ and the agent's group; and the CLI that prints them."""

from __future__ import annotations

from click.testing import CliRunner

from warehouse_edge.cli import main
from warehouse_edge.udev import Plugged, link_name, rule


def test_a_serial_scanner_gets_a_link_by_its_ids_and_serial_and_the_dialout_group() -> None:
    scanner = Plugged("serial", "/dev/ttyACM0", 0x0C2E, 0x0B61, "A1 2/3", "Honeywell 1900")
    assert link_name(scanner) == "scanner-0c2e-0b61-A1_2_3"
    comment, line = rule(scanner).splitlines()
    assert comment == "# Honeywell 1900 (now /dev/ttyACM0)"
    assert line == (
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0c2e", ATTRS{idProduct}=="0b61", '
        'ATTRS{serial}=="A1 2/3", SYMLINK+="warehouse/scanner-0c2e-0b61-A1_2_3", '
        'GROUP="dialout", MODE="0660"'
    )


def test_a_keyboard_wedge_without_a_serial_matches_its_event_node_in_the_input_group() -> None:
    wedge = Plugged("input", "/dev/input/event3", 0x05E0, 0x1200, None, 'Symbol "LS2208"')
    line = rule(wedge).splitlines()[1]
    assert line.startswith('SUBSYSTEM=="input", KERNEL=="event*", ATTRS{idVendor}=="05e0"')
    assert "ATTRS{serial}" not in line
    assert 'SYMLINK+="warehouse/wedge-05e0-1200"' in line
    assert 'GROUP="input"' in line


def test_the_cli_prints_rules_or_says_nothing_is_plugged() -> None:
    result = CliRunner().invoke(main, ["devices", "--udev"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("# for /etc/udev/rules.d/70-warehouse-edge.rules")
    rules = [x for x in lines[1:] if not x.startswith("#")]
    assert all("SYMLINK+=" in x for x in rules)
    assert rules or "# no USB serial or input devices are plugged in" in lines
