"""A serial scanner unplugged (pty master closed) and plugged back in."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers import wait_for
from warehouse_drivers import Read, RejectedRead, create_driver
from warehouse_edge.supervisor import Supervisor


def plug(link: Path) -> int:
    master, slave = os.openpty()
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.ttyname(slave))  # what udev's /dev/serial/by-id link does
    os.close(slave)
    return master


def test_unplug_and_replug(tmp_path: Path) -> None:
    link = tmp_path / "usb-Scanner_SC100_42-if00"
    master = plug(link)
    reads: list[Read | RejectedRead] = []
    driver = create_driver(
        "serial", "scanner-1", port=str(link), terminator="CR", feedback={"ok": "06"}
    )
    supervisor = Supervisor(driver, reads.append, min_backoff=0.05, max_backoff=0.2)
    supervisor.start()
    try:
        wait_for(lambda: supervisor.health.state == "up")
        os.write(master, b"5901230001001\r")
        wait_for(lambda: len(reads) == 1)
        driver.feedback("ok")
        assert os.read(master, 1) == b"\x06"

        os.close(master)  # unplugged
        master = -1
        wait_for(lambda: supervisor.health.state == "down")
        assert supervisor.health.outages == 1
        assert str(link) in (supervisor.health.last_error or "")
        time.sleep(0.5)  # a few reopen attempts fail meanwhile
        assert supervisor.health.state == "down"

        master = plug(link)  # plugged back in: a new tty behind the same stable name
        wait_for(lambda: supervisor.health.state == "up")
        os.write(master, b"]E05901230001025\r")
        wait_for(lambda: len(reads) == 2)
    finally:
        supervisor.stop()
        if master >= 0:
            os.close(master)
    health = supervisor.health
    assert [r.data for r in reads if isinstance(r, Read)] == ["5901230001001", "]E05901230001025"]
    assert (health.reconnects, health.outages, health.reads) == (1, 1, 2)
    assert health.errors >= 2  # the read failure and at least one failed reopen
