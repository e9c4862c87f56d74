"""A short-lived, in-process cache of authenticated API keys.

Every request of every door authenticates its key. Without a cache that is two store reads (the key by
its hash, then its tenant) before any work starts, each a read transaction of its own. The cache keeps
the answer for a few seconds, so a client sending many requests pays those reads about once per
``ttl`` seconds instead of once per request.

Revocation stays correct, within a documented bound:

* through **this process** (its ``MemoryService.revoke_api_key``: the GoodMem key endpoints of a
  server, an embedded client) — the cache is emptied, so the revoked key is refused at once.
  A lookup that began before the revocation and ends after it does not store its stale answer: every
  clear advances a generation number and :meth:`KeyCache.put` ignores answers from an older generation.
* through **another process** sharing the store (``memhub keys revoke`` while a server runs, a second
  server on the same PostgreSQL) — this process learns of it when its entry expires: the key keeps
  working here for at most ``ttl`` seconds (:data:`AUTH_CACHE_SECONDS` by default).

Only live keys are cached: an unknown or revoked key is looked up every time, so guessing keys cannot
fill the cache, and a key created in another process works here at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .models import Tenant

AUTH_CACHE_SECONDS = 2.0
"""How long a key checked against the store is trusted without asking again (0 turns the cache off)."""
MAX_ENTRIES = 10_000
"""More live keys than this in use at once empties the cache rather than letting it grow."""


class KeyCache:
    """Key hash → tenant, each entry trusted for ``ttl`` seconds of ``clock``. Thread-safe."""

    def __init__(
        self, ttl: float = AUTH_CACHE_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl < 0:
            raise ValueError("ttl must be >= 0")
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[Tenant, float]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Read before a store lookup and hand to :meth:`put`, so a clear in between wins."""
        return self._generation

    def get(self, digest: str) -> Tenant | None:
        """The tenant of a key checked less than ``ttl`` seconds ago, else None."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        tenant, expires = entry
        if self._clock() >= expires:
            self._entries.pop(digest, None)
            return None
        return tenant

    def put(self, digest: str, tenant: Tenant, generation: int) -> None:
        """Remember a live key, unless the cache was cleared since ``generation`` was read."""
        if self._ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (tenant, self._clock() + self._ttl)

    def clear(self) -> None:
        """Forget every key (after a revocation), and any lookup still in flight."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
