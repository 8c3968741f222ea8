"""udev rules for the devices an agent reads: a stable link under /dev/warehouse/ and the group
the agent's user is in, matched by USB vendor, product and (when the device has one) serial
number, so a scanner keeps its name whichever port it is plugged into
(``warehouse-edge devices --udev``; deploy/raspberrypi/70-warehouse-edge.rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["serial", "input"]
#: the group each kind of device node belongs to (the agent's user is in all three)
GROUPS = {"serial": "dialout", "input": "input"}


@dataclass(frozen=True)
class Plugged:
    """A device as it is plugged in now."""

    kind: Kind
    node: str  # /dev/ttyACM0, /dev/input/event3
    vid: int
    pid: int
    serial: str | None = None
    description: str = ""


def link_name(device: Plugged) -> str:
    """The link's name under /dev/warehouse/: kind, ids and serial (safe characters only)."""
    base = "scanner" if device.kind == "serial" else "wedge"
    name = f"{base}-{device.vid:04x}-{device.pid:04x}"
    if device.serial:
        name += "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", device.serial)
    return name


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rule(device: Plugged) -> str:
    """One udev rule (with a comment line saying what it is) for ``device``."""
    match = [
        'SUBSYSTEM=="tty"' if device.kind == "serial" else 'SUBSYSTEM=="input", KERNEL=="event*"',
        f'ATTRS{{idVendor}}=="{device.vid:04x}"',
        f'ATTRS{{idProduct}}=="{device.pid:04x}"',
    ]
    if device.serial:
        match.append(f"ATTRS{{serial}}=={_quoted(device.serial)}")
    actions = [
        f'SYMLINK+="warehouse/{link_name(device)}"',
        f'GROUP="{GROUPS[device.kind]}"',
        'MODE="0660"',
    ]
    comment = f"# {device.description or device.kind} (now {device.node})"
    return comment + "\n" + ", ".join(match + actions)
