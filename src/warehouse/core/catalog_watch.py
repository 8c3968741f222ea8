"""Catalog changes heard as they commit (PostgreSQL LISTEN/NOTIFY), so that a batch need not
ask the database whether the catalog moved.

Every catalog change raises the catalog version and, on PostgreSQL, sends a notification on
:data:`CHANNEL` in the same transaction; PostgreSQL delivers it when that transaction commits.
A :class:`CatalogWatch` listens on a connection of its own, in a thread, and counts what it
hears. :meth:`CatalogWatch.generation` is that count while the watch listens, and None while it
does not (not connected yet, connection lost): whoever caches by the catalog version reads the
version itself until the watch listens again. Each (re)connection starts a new generation, so
a notification missed while disconnected is never mistaken for silence.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from warehouse.core.failures import first_line

log = logging.getLogger(__name__)

#: The notification channel of catalog changes.
CHANNEL = "warehouse_catalog"
#: How its connection shows in pg_stat_activity.
APP_NAME = "warehouse catalog watch"


class CatalogWatch:
    """Listens for catalog changes in a daemon thread until :meth:`stop`."""

    def __init__(self, url: URL, *, retry_s: float = 1.0) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._retry_s = retry_s
        self._lock = threading.Lock()
        self._count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while listening (tests wait on it)

    def generation(self) -> int | None:
        """How many changes (and reconnections) were heard; None while not listening."""
        with self._lock:
            return self._count if self.listening.is_set() else None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="catalog-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _heard(self, *, listening: bool) -> None:
        with self._lock:
            self._count += 1
            if listening:
                self.listening.set()
            else:
                self.listening.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - whatever ends it, batches read the version
                self._heard(listening=False)
                log.warning("catalog watch lost its connection (%s); retrying", first_line(exc))
                self._stop.wait(self._retry_s)

    def _listen(self) -> None:
        keepalive: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 10}
        with psycopg.connect(
            self._dsn, autocommit=True, connect_timeout=5, application_name=APP_NAME, **keepalive
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._heard(listening=True)
            while not self._stop.is_set():
                for _notice in conn.notifies(timeout=0.5):
                    self._heard(listening=True)
                conn.execute("SELECT 1")  # a dead server shows here, not in a quiet wait
        self._heard(listening=False)


def started_for(engine: Engine) -> CatalogWatch | None:
    """A running watch on ``engine``'s database, or None where there is nothing to hear
    (SQLite: its one process bumps the version it reads)."""
    if engine.dialect.name != "postgresql":
        return None
    watch = CatalogWatch(engine.url)
    watch.start()
    return watch
