"""access.api.key_cache: an API key checked once is trusted for recheck_s, never past its
expiry, and forgotten oldest-first beyond its bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warehouse.access.api import key_cache
from warehouse.access.api.key_cache import KeyCache
from warehouse.access.domain import Grant, Principal, Role

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ERP = Principal("key", "k1", "erp", (Grant(Role.STAFF, "WH1"),))


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_checked_key_is_trusted_until_its_recheck_is_due() -> None:
    clock = Clock()
    cache = KeyCache(5, clock)
    assert cache.get("whk_k1.secret", NOW) is None
    cache.put("whk_k1.secret", ERP, None)
    clock.t += 4.9
    assert cache.get("whk_k1.secret", NOW) is ERP
    clock.t += 0.1
    assert cache.get("whk_k1.secret", NOW) is None  # the database is asked again
    assert len(cache) == 0


def test_only_the_same_secret_is_recognised() -> None:
    cache = KeyCache(5, Clock())
    cache.put("whk_k1.secret", ERP, None)
    assert cache.get("whk_k1.guess", NOW) is None
    assert cache.get("whk_k1.secret ", NOW) is None


def test_an_expired_key_is_refused_at_once_even_while_remembered() -> None:
    cache = KeyCache(60, Clock())
    cache.put("whk_k1.secret", ERP, NOW + timedelta(seconds=1))
    assert cache.get("whk_k1.secret", NOW) is ERP
    assert cache.get("whk_k1.secret", NOW + timedelta(seconds=1)) is None


def test_zero_asks_the_database_every_time() -> None:
    cache = KeyCache(0, Clock())
    cache.put("whk_k1.secret", ERP, None)
    assert cache.get("whk_k1.secret", NOW) is None
    assert len(cache) == 0


def test_the_cache_is_bounded_and_drops_the_least_recently_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(key_cache, "MAX_KEYS", 3)
    cache = KeyCache(60, Clock())
    for n in range(3):
        cache.put(f"whk_k{n}.s", ERP, None)
    assert cache.get("whk_k0.s", NOW) is ERP  # k0 is now the most recent
    cache.put("whk_k3.s", ERP, None)
    assert len(cache) == 3
    assert cache.get("whk_k1.s", NOW) is None
    assert cache.get("whk_k0.s", NOW) is ERP
