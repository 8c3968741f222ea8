"""Read answers encoded once per version: a bounded, least-recently-used map from (version,
path and query, the sites one may see) to the JSON bytes a listing answered with.

A conditional read (conditional.py) reads the data's version first and then the page, so a page
is never older than the version it is filed under; the version only moves forward, so a page
filed under the version still current is what the query would answer now, or newer. Ten
dashboards polling the same page while nothing moves cost one query and one encoding, then the
version's index reads each. A request that sends ``Cache-Control: no-cache`` is answered from
the database (and refreshes the entry). Bounded by bytes (``api_page_cache_mb``; 0 turns it
off); entries of older versions are never asked for again and age out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from fastapi import Request
from prometheus_client import Counter

LOOKUPS = Counter(
    "warehouse_api_page_cache_total",
    "Conditional reads by whether the encoded page was already held",
    ["result"],
)


class PageCache:
    """Encoded pages by key, at most ``max_bytes`` of them; thread-safe (SQLite's reads run on
    worker threads)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
        LOOKUPS.labels("hit" if page is not None else "miss").inc()
        return page

    def put(self, key: str, page: bytes) -> None:
        cost = len(page) + len(key)
        if cost > self.max_bytes // 8:  # one huge page must not flush everything else
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old) + len(key)
            self._pages[key] = page
            self._bytes += cost
            while self._bytes > self.max_bytes:
                gone, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped) + len(gone)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


def page_cache_of(request: Request) -> PageCache | None:
    """The app's cache, made on first use from the service's settings; None when turned off."""
    state = request.app.state
    cache: PageCache | None = getattr(state, "page_cache", None)
    if cache is None:
        megabytes = state.service.settings.api_page_cache_mb
        if megabytes <= 0:
            return None
        cache = state.page_cache = PageCache(int(megabytes * 1024 * 1024))
    return cache


def wants_fresh(request: Request) -> bool:
    """Whether the client asked for an answer from the source (``Cache-Control: no-cache``)."""
    control = request.headers.get("cache-control", "").lower()
    return "no-cache" in control or "no-store" in control
