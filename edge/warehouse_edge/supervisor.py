"""Keeps a driver running: opens it, reads, and after any failure reopens it with exponential
backoff and jitter, keeping per-device health."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from warehouse_drivers import (
    DeviceUnavailable,
    Driver,
    DriverNotInstalled,
    Read,
    RejectedRead,
    TagReport,
)

log = logging.getLogger(__name__)


@dataclass
class Health:
    """What a device has been doing."""

    state: str = "starting"  # starting | up | down | failed
    reads: int = 0
    rejected: int = 0
    errors: int = 0
    reconnects: int = 0
    last_read_at: float | None = None
    last_error: str | None = None
    down_since: float | None = None
    outages: int = 0

    def as_dict(self) -> dict[str, str | int | float | None]:
        """For heartbeats and the CLI."""
        return asdict(self)


class Supervisor:
    """Runs one driver in its own thread until stopped."""

    def __init__(
        self,
        driver: Driver,
        on_item: Callable[[Read | RejectedRead | TagReport], None],
        *,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.driver = driver
        self.on_item = on_item
        self.health = Health()
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"device-{driver.name}", daemon=True)

    def start(self) -> None:
        """Start reading in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the device."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        delay = self.min_backoff
        while not self._stop.is_set():
            try:
                self.driver.open()
            except DriverNotInstalled as exc:
                self._failed(exc, permanent=True)
                return
            except Exception as exc:  # noqa: BLE001 - any library error: record, back off, retry
                self._failed(exc)
                self._stop.wait(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
                delay = min(delay * 2, self.max_backoff)
                continue
            self._up()
            delay = self.min_backoff
            try:
                self._read_until_failure()
            except Exception as exc:  # noqa: BLE001 - DeviceUnavailable or anything else
                self._failed(exc)
            finally:
                self.driver.close()

    def _read_until_failure(self) -> None:
        while not self._stop.is_set():
            item = self.driver.read(0.5)
            if item is None:
                continue
            if isinstance(item, Read | TagReport):
                self.health.reads += 1
                self.health.last_read_at = item.at
            else:
                self.health.rejected += 1
            try:
                self.on_item(item)
            except Exception:  # a bug handling one read must not stop the device
                self.health.errors += 1
                log.exception("device %s: handling a read failed", self.driver.name)

    def _up(self) -> None:
        health = self.health
        if health.state == "down":
            health.reconnects += 1
            log.info(
                "device %s is back after %.1fs",
                self.driver.name,
                time.time() - (health.down_since or time.time()),
            )
        else:
            log.info("device %s is up", self.driver.name)
        health.state, health.down_since = "up", None

    def _failed(self, exc: BaseException, permanent: bool = False) -> None:
        health = self.health
        health.errors += 1
        health.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if health.state != "down":
            health.outages += 1
            health.down_since = time.time()
            level = logging.ERROR if permanent else logging.WARNING
            log.log(level, "device %s is down: %s", self.driver.name, health.last_error)
        health.state = "failed" if permanent else "down"
        if isinstance(exc, DeviceUnavailable):
            return
        log.debug("device %s failure", self.driver.name, exc_info=exc)
