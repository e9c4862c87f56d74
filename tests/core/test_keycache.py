"""The key cache: trusted for its TTL, emptied by a revocation, never refilled by a lookup it outran."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memhub.core.keycache import KeyCache
from memhub.core.models import Tenant

TENANT = Tenant(id="t1", name="acme", created_at=datetime(2024, 1, 1, tzinfo=UTC))


class Ticks:
    """A monotonic clock the test moves by hand (the cache takes any ``() -> float``)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_checked_key_is_trusted_until_its_ttl_runs_out() -> None:
    clock = Ticks()
    cache = KeyCache(2.0, clock=clock)
    assert cache.get("digest") is None
    cache.put("digest", TENANT, cache.generation)
    clock.now += 1.9
    assert cache.get("digest") == TENANT
    clock.now += 0.2
    assert cache.get("digest") is None


def test_clear_forgets_keys_and_drops_answers_of_lookups_begun_before_it() -> None:
    cache = KeyCache(2.0)
    cache.put("old", TENANT, cache.generation)
    in_flight = cache.generation  # a lookup starts, reads the store ...
    cache.clear()  # ... a revocation lands ...
    cache.put("new", TENANT, in_flight)  # ... and the lookup's (stale) answer arrives
    assert cache.get("old") is None and cache.get("new") is None
    cache.put("new", TENANT, cache.generation)
    assert cache.get("new") == TENANT


def test_a_zero_ttl_caches_nothing_and_a_negative_one_is_refused() -> None:
    cache = KeyCache(0.0)
    cache.put("digest", TENANT, cache.generation)
    assert cache.get("digest") is None
    with pytest.raises(ValueError, match="ttl"):
        KeyCache(-1.0)
