"""The ingest worker's bounded buffer between its MQTT client (or NATS link) and its batch
threads.

Backpressure instead of buffering: while the buffer is full, the MQTT client's network thread
waits in its message callback, so it reads nothing more from the broker and sends no PUBACKs;
the broker stops sending once its in-flight window is used up, and whatever it then drops is
re-sent by the edges, which keep every event until the service acknowledges it. Memory stays
bounded by the buffer's limits however long the database is down.

A message whose topic and payload equal one already waiting is a re-send by its edge: it
collapses into the one waiting (and costs nothing) rather than taking a second place.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

#: (topic, payload), and from NATS the JetStream reply subject that acknowledges it
Message = tuple[str, bytes] | tuple[str, bytes, str]


class IngestBuffer:
    """FIFO of received messages, bounded by count and payload bytes; thread-safe."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._items: OrderedDict[Message, None] = OrderedDict()
        self._bytes = 0
        self._closed = False
        self._cond = threading.Condition()
        self._wanted = 1  # the taker is woken once this many are waiting (take_batch)
        self.collapsed = 0  # re-sends that found their twin waiting
        self.peak_messages = 0
        self.peak_bytes = 0
        self.waited_s = 0.0  # time producers spent blocked on a full buffer

    def put_many(self, messages: Sequence[Message]) -> None:
        """Add messages in order, waiting while the buffer is full; returns at once once closed
        (what it then drops was not acknowledged to anyone). Waiters are woken once per call,
        not once per message."""
        with self._cond:
            added = False
            for message in messages:
                if message in self._items:
                    self.collapsed += 1
                    continue
                size = len(message[1])
                if self._full(size):
                    if added:  # let the batch threads take what is here
                        self._cond.notify_all()
                        added = False
                    started = time.monotonic()
                    while self._full(size) and not self._closed:
                        self._cond.wait(0.5)
                    self.waited_s += time.monotonic() - started
                if self._closed:
                    return
                if message in self._items:  # its twin arrived while we waited
                    self.collapsed += 1
                    continue
                self._items[message] = None
                self._bytes += size
                added = True
            self.peak_messages = max(self.peak_messages, len(self._items))
            self.peak_bytes = max(self.peak_bytes, self._bytes)
            if added and (len(self._items) >= self._wanted or self._full(0)):
                self._cond.notify_all()

    def _full(self, size: int) -> bool:
        if not self._items:
            return False  # one message always fits, however large
        return len(self._items) >= self.max_messages or self._bytes + size > self.max_bytes

    def take(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` at once, waiting at most ``timeout`` for the first."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            out: list[Message] = []
            while self._items and len(out) < max_messages:
                message, _ = self._items.popitem(last=False)
                self._bytes -= len(message[1])
                out.append(message)
            if out:
                self._cond.notify_all()
            return out

    def take_batch(self, max_messages: int, timeout: float, window: float) -> list[Message]:
        """Up to ``max_messages``: wait at most ``timeout`` for the first, then at most
        ``window`` for the batch to fill. While it fills, producers wake the taker only once
        the batch is full (not once per message: at a trickle that was a thread switch per
        event)."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            if self._items and window > 0 and len(self._items) < max_messages:
                deadline = time.monotonic() + window
                self._wanted = max_messages
                try:
                    while len(self._items) < max_messages and not self._closed:
                        left = deadline - time.monotonic()
                        if left <= 0 or self._full(0):
                            break
                        self._cond.wait(left)
                finally:
                    self._wanted = 1
        return self.take(max_messages, timeout=0)

    def close(self) -> None:
        """Wake every waiter; later puts drop their messages."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
