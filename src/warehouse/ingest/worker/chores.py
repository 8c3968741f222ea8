"""The worker's chores: what it does now and then beside its batches, each in a module of its own
(holds.py, feed.py, price_books.py, gaps.py), run one after the other by one thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from warehouse.core.unit_of_work import FailureClassifier

log = logging.getLogger(__name__)


class Chore:
    """A job run every ``every_s`` seconds (the first time on the first round); one that needs
    the broker waits while the worker is not connected. A chore that raises is logged and runs
    again when next due: the database may be away for a while."""

    #: what the log says when it fails
    doing = "a chore"
    needs_broker = False

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._next = 0.0

    def due(self, now: float, connected: bool) -> bool:
        """Whether to run now (and if so, when next)."""
        if now < self._next or (self.needs_broker and not connected):
            return False
        self._next = now + self.every_s
        return True

    def run(self) -> None:
        """Do the job once."""
        raise NotImplementedError


def run_chores(
    chores: Sequence[Chore],
    interval: float,
    stop: threading.Event,
    connected: threading.Event,
    classify: FailureClassifier,
) -> None:
    """Every ``interval`` seconds until ``stop`` is set, run the chores that are due."""
    while not stop.wait(interval):
        for chore in chores:
            if not chore.due(time.monotonic(), connected.is_set()):
                continue
            try:
                chore.run()
            except Exception as exc:  # the top of a loop: logged, and the next round retries
                if classify(exc) != "unavailable":
                    log.exception("%s failed", chore.doing)
                else:
                    log.debug("%s skipped: the database is unavailable (%s)", chore.doing, exc)
