"""Suppressing the same code read twice in a moment by the same scanner (pure)."""

from __future__ import annotations


class Debouncer:
    """Accept a code from a device unless it was seen from that device within the window.

    The window slides: a trigger held on one label keeps re-reading it and stays suppressed.
    Memory is bounded: entries older than the window are dropped as it goes.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[tuple[str, str], float] = {}

    def accept(self, device: str, code: str, now: float) -> bool:
        """Whether this read counts."""
        key = (device, code)
        last = self._seen.get(key)
        self._seen[key] = now
        if len(self._seen) > 1024:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.window_s}
        return last is None or now - last >= self.window_s
