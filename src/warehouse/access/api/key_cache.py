"""API keys checked against the database once per ``api_key_recheck_s``, not on every request.

A key's check is a thread hop, a SELECT and a digest comparison. Pollers and integrations send
the same key many times a second, and nothing about a key changes but its revocation (from the
CLI, in another process) and its expiry (known in advance). So a key found valid is remembered
for a few seconds by a digest of what was presented (the secret itself is not kept), with the
time it expires: an expired key is refused at once, a revoked one within ``recheck_s`` in every
running API process (docs/decisions.md, issue 26). A presentation that failed is not remembered:
each retry is checked, and counted by the login limits like any other.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from warehouse.access.domain import Principal

#: How many distinct keys one API process remembers at most (the oldest looked-up is dropped).
MAX_KEYS = 1024


@dataclass(frozen=True, slots=True)
class _Known:
    principal: Principal
    expires_at: datetime | None
    checked: float  # time.monotonic() of the database check


class KeyCache:
    """Principals of recently checked API keys, each trusted for ``recheck_s`` seconds."""

    def __init__(self, recheck_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.recheck_s = recheck_s
        self._clock = clock
        self._known: OrderedDict[bytes, _Known] = OrderedDict()

    def get(self, presented: str, now: datetime) -> Principal | None:
        """The principal of ``presented`` if it was checked less than ``recheck_s`` ago and has
        not expired since; None if the database must be asked."""
        if self.recheck_s <= 0:
            return None
        digest = _digest(presented)
        known = self._known.get(digest)
        if known is None:
            return None
        if self._clock() - known.checked >= self.recheck_s or (
            known.expires_at is not None and known.expires_at <= now
        ):
            del self._known[digest]
            return None
        self._known.move_to_end(digest)
        return known.principal

    def put(self, presented: str, principal: Principal, expires_at: datetime | None) -> None:
        """Remember a key the database has just found valid."""
        if self.recheck_s <= 0:
            return
        digest = _digest(presented)
        self._known[digest] = _Known(principal, expires_at, self._clock())
        self._known.move_to_end(digest)
        while len(self._known) > MAX_KEYS:
            self._known.popitem(last=False)

    def __len__(self) -> int:
        return len(self._known)


def _digest(presented: str) -> bytes:
    return hashlib.blake2b(presented.encode(), digest_size=20).digest()
