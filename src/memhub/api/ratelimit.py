"""Per-API-key rate limit: a token bucket per key, in memory (``rate_limit_per_minute``; off by default).

In memory on purpose: it protects one server process from one runaway client, which needs no shared
state. Several server processes behind a balancer each allow the configured rate; a deployment that needs
a global limit puts it in its proxy. Buckets are keyed by the key's hash, never the key itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from memhub.core.errors import RateLimited


@dataclass(frozen=True)
class Quota:
    """Where a key stands after a request: what the ``X-RateLimit-*`` headers report."""

    limit: int
    remaining: int
    reset_at: float  # unix seconds when the bucket is full again


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``per_minute`` requests per key, with bursts of up to ``per_minute`` requests.

    Thread-safe: sync dependencies run in a thread pool, so buckets are updated under a lock.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> Quota:
        """Take one token for ``key`` or raise :class:`RateLimited` saying when one will be there."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                full_in = (self.capacity - bucket.tokens) / self.rate
                return Quota(int(self.capacity), int(bucket.tokens), time.time() + full_in)
            wait = (1.0 - bucket.tokens) / self.rate
        raise RateLimited(
            f"rate limit of {int(self.capacity)} requests per minute exceeded",
            retry_after=wait,
            details={"limit_per_minute": int(self.capacity)},
        )
