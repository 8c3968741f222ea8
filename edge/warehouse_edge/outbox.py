"""The durable outbox: every event is on disk before the operator hears the beep, and stays
until the service acknowledges it.

SQLite in WAL mode with ``synchronous=FULL``: a commit returns after fsync. Appends from all
device threads go through one writer thread that commits whatever is queued in one transaction
(group commit: a burst of scans costs one fsync; nothing waits on purpose). ``seq`` is assigned
in that transaction from ``sqlite_sequence``, so it is 64-bit, contiguous and never reused, even
after rows are pruned or the agent is killed mid-write.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warehouse_edge import faults

log = logging.getLogger(__name__)

#: render(seq) -> (event_id, topic, payload): the envelope is made once its seq is known.
Render = Callable[[int], tuple[str, str, bytes]]
#: (seq, number) -> what Render returns, for an event that takes a counter's next number
NumberedRender = Callable[[int, int], tuple[str, str, bytes]]

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    acked_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_unacked ON outbox (seq) WHERE acked_at IS NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class OutboxFull(RuntimeError):
    """The disk budget is used up, or the disk itself is full or failing: new scans are refused
    (movements are never dropped; what is stored stays, and is still sent)."""


def _storage_failed(exc: sqlite3.Error) -> bool:
    """SQLite could not write: the disk is full (ENOSPC) or an I/O error."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


@dataclass(frozen=True, slots=True)
class Pending:
    """An event not yet acknowledged."""

    seq: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """What the outbox holds."""

    pending: int
    oldest_pending_age_s: float | None
    last_acked_seq: int
    last_seq: int
    used_bytes: int
    budget_bytes: int


@dataclass
class _Append:
    render: Render
    done: threading.Event
    seq: int = 0
    error: BaseException | None = None
    counter: str | None = None  # a meta counter to advance with this event (receipt numbers)
    number: int = 0
    numbered: NumberedRender | None = None
    #: meta values to set with this event (None: the number the counter gave it)
    sets: dict[str, int | None] | None = None


class Outbox:
    """Durable, ordered, acknowledged event storage for one agent."""

    def __init__(self, path: Path, *, budget_bytes: int, keep_acked_s: float = 86_400) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.budget_bytes = budget_bytes
        self.keep_acked_s = keep_acked_s
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._boot = self._meta("boot")
        self._queue: queue.Queue[_Append | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="outbox-writer", daemon=True)
        self._writer.start()
        self._last_pruned = 0.0
        self.refused = 0  # appends refused: over budget, or the disk full or failing

    # --- appending -----------------------------------------------------------------------

    def append(
        self, render: Render, timeout: float = 10.0, *, sets: dict[str, int | None] | None = None
    ) -> int:
        """Store one event durably; return its seq. Raises OutboxFull past the disk budget.
        ``sets`` are meta values set in the same transaction (a register's open session)."""
        request = _Append(render, threading.Event(), sets=sets)
        self._queue.put(request)
        if not request.done.wait(timeout):
            raise TimeoutError("the outbox did not commit in time")
        if request.error is not None:
            raise request.error
        return request.seq

    def append_numbered(
        self,
        render: NumberedRender,
        counter: str,
        timeout: float = 10.0,
        *,
        sets: dict[str, int | None] | None = None,
    ) -> tuple[int, int]:
        """Store one event that takes the next number of ``counter`` (a register's receipt
        number) in the same transaction: the number is used exactly when the event is kept.
        ``sets`` as for :meth:`append` (None: this number). Return (seq, number)."""
        request = _Append(lambda seq: ("", "", b""), threading.Event(), counter=counter, sets=sets)
        request.numbered = render
        self._queue.put(request)
        if not request.done.wait(timeout):
            raise TimeoutError("the outbox did not commit in time")
        if request.error is not None:
            raise request.error
        return request.seq, request.number

    def counter(self, name: str) -> int:
        """The last number ``name`` gave out (0 for none)."""
        with self._lock:
            return self._meta(name)

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:  # everything queued while the last fsync ran commits together
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Append]) -> None:
        try:
            with self._lock:
                if self._used_bytes() >= self.budget_bytes:
                    raise OutboxFull(
                        f"outbox {self.path} is over its disk budget of "
                        f"{self.budget_bytes // 1_000_000} MB"
                    )
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    seq = self._last_seq()
                    now = time.time()
                    numbers: dict[str, int] = {}
                    for request in batch:
                        seq += 1
                        if request.counter is not None and request.numbered is not None:
                            key = request.counter
                            numbers[key] = numbers.get(key, self._meta(key)) + 1
                            request.number = numbers[key]
                            event_id, topic, payload = request.numbered(seq, request.number)
                        else:
                            event_id, topic, payload = request.render(seq)
                        self._db.execute(
                            "INSERT INTO outbox (seq, event_id, topic, payload, created_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (seq, event_id, topic, payload, now),
                        )
                        request.seq = seq
                        for key, value in (request.sets or {}).items():
                            numbers[key] = request.number if value is None else value
                    for key, number in numbers.items():
                        self._set_meta(key, number)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite may have rolled back already
                        self._db.execute("ROLLBACK")
                    raise
                faults.after_commit(batch[0].seq, seq)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            self._fail(batch, exc)
        for request in batch:
            request.done.set()

    def _fail(self, batch: list[_Append], exc: BaseException) -> None:
        """Hand a commit's failure to its callers; a full or failing disk refuses the reads."""
        if isinstance(exc, sqlite3.Error) and _storage_failed(exc):
            exc = OutboxFull(f"cannot write outbox {self.path}: {exc}")
        if isinstance(exc, OutboxFull):
            self.refused += len(batch)
        for request in batch:
            request.error = exc

    def _last_seq(self) -> int:
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return int(row[0]) if row else 0

    def _used_bytes(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    # --- sending and acknowledging -------------------------------------------------------

    def pending(self, after_seq: int, limit: int) -> list[Pending]:
        """Unacknowledged events above ``after_seq``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM outbox WHERE acked_at IS NULL AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Pending(seq, topic, bytes(payload)) for seq, topic, payload in rows]

    def ack(self, seq: int) -> int:
        """Mark everything up to ``seq`` acknowledged; return how many rows that was."""
        now = time.time()
        with self._lock:
            try:
                cursor = self._db.execute(
                    "UPDATE outbox SET acked_at = ? WHERE acked_at IS NULL AND seq <= ?",
                    (now, seq),
                )
                self._set_meta("last_acked_seq", max(seq, self._meta("last_acked_seq")))
                if now - self._last_pruned > 60:
                    self._db.execute(
                        "DELETE FROM outbox WHERE acked_at < ?", (now - self.keep_acked_s,)
                    )
                    self._last_pruned = now
            except sqlite3.Error as exc:
                if not _storage_failed(exc):
                    raise
                # the events stay pending: they are sent again, and the service acks them again
                log.warning("cannot record the ack of seq %d in %s: %s", seq, self.path, exc)
                return 0
        return cursor.rowcount

    def resync(self, from_seq: int) -> int:
        """Make acknowledged events from ``from_seq`` on pending again (the service asked)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE outbox SET acked_at = NULL WHERE seq >= ? AND acked_at IS NOT NULL",
                (from_seq,),
            )
        return cursor.rowcount

    def oldest_kept_seq(self) -> int | None:
        """The lowest seq still stored (acknowledged or not): nothing below can be re-sent."""
        with self._lock:
            row = self._db.execute("SELECT min(seq) FROM outbox").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def next_boot(self) -> int:
        """Count one more connect; the counter survives restarts."""
        with self._lock:
            self._boot += 1
            self._set_meta("boot", self._boot)
        return self._boot

    @property
    def boot(self) -> int:
        """The current connect counter (kept in memory: render callbacks read it under the
        writer's lock)."""
        return self._boot

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def stats(self) -> OutboxStats:
        """Pending count, oldest pending age, last acked and last assigned seq, disk use."""
        with self._lock:
            count, oldest = self._db.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE acked_at IS NULL"
            ).fetchone()
            return OutboxStats(
                pending=count,
                oldest_pending_age_s=time.time() - oldest if oldest else None,
                last_acked_seq=self._meta("last_acked_seq"),
                last_seq=self._last_seq(),
                used_bytes=self._used_bytes(),
                budget_bytes=self.budget_bytes,
            )

    def close(self) -> None:
        """Finish queued appends and close the database."""
        self._queue.put(None)
        self._writer.join(10)
        with self._lock:
            self._db.close()
