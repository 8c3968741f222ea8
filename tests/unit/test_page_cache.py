"""The page cache: least recently used out first, bounded by bytes, no page larger than an
eighth of it."""

from __future__ import annotations

from warehouse.core.api.page_cache import PageCache


def test_the_least_recently_used_page_goes_first() -> None:
    cache = PageCache(max_bytes=3000)
    for key in ("a", "b", "c"):
        cache.put(key, b"x" * 300)
    assert cache.get("a") is not None  # a is now the most recent
    for key in ("d", "e", "f", "g", "h", "i", "j"):
        cache.put(key, b"x" * 300)
    assert cache.get("b") is None  # ten pages of 301 bytes: one had to go, the oldest untouched
    assert cache.get("a") is not None
    assert len(cache) == 9
    assert sum(len(cache._pages[k]) + len(k) for k in cache._pages) <= 3000


def test_a_page_too_big_for_the_cache_is_not_kept() -> None:
    cache = PageCache(max_bytes=8000)
    cache.put("small", b"s" * 10)
    cache.put("huge", b"h" * 1001)
    assert cache.get("huge") is None
    assert cache.get("small") == b"s" * 10


def test_replacing_a_page_keeps_the_count_right() -> None:
    cache = PageCache(max_bytes=1000)
    cache.put("k", b"1" * 100)
    cache.put("k", b"2" * 100)
    assert cache.get("k") == b"2" * 100
    assert cache._bytes == 101
