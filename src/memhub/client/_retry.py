"""When to try a request again, and after how long. Pure functions of the failure: no I/O, no sleeping.

What is retried, and why:

* **429** for every request: the server refused it before doing anything. ``Retry-After`` is honoured
  as given; a hint longer than ``max_retry_after`` is not slept through silently but raised, so the
  caller decides whether a long wait is acceptable.
* **502, 503, 504** and **timeouts / dropped connections** for *idempotent* requests only. Every native
  memhub write is idempotent except creating a space or a session: adds (memories, documents, events)
  derive their job id from the content, so a second delivery lands on the same job and stores nothing
  twice; PATCH sets the same metadata again; DELETE deletes the same thing (a retried DELETE whose first
  attempt did land answers 404, which is raised: the object is gone either way).
* **connect failures** for every request: nothing was sent, so nothing can be duplicated.
* **500 is not retried**: memhub reports transient dependency failures as 503, so a 500 is a bug and a
  retry would only repeat it (and slow the error down). **501** and the other 4xx never change.

Backoff is exponential with jitter ("full jitter" on the upper quarter) so that many clients that failed
together do not come back together.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from .errors import APIConnectionError, MemhubAPIError, MemhubClientError, RateLimitError

RETRYABLE_STATUSES = frozenset({502, 503, 504})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass
class RetryPolicy:
    """Decides, per failed attempt, whether to try again and after how long."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, error: MemhubClientError, *, idempotent: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise ``error``.

        ``attempt`` counts the failures so far of this request, from 0.
        """
        if attempt >= self.max_retries or not self.retryable(error, idempotent=idempotent):
            return None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            # The server said when; a little jitter upward only, never earlier than asked.
            return error.retry_after + 0.1 * self.rng() * min(1.0, error.retry_after)
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """Exponential delay for the ``attempt``-th retry, minus up to 25% jitter."""
        delay = min(self.base_delay * 2.0**attempt, self.max_delay)
        return delay * (1.0 - 0.25 * self.rng())

    @staticmethod
    def retryable(error: MemhubClientError, *, idempotent: bool) -> bool:
        """Whether trying ``error``'s request again is both useful and safe."""
        if isinstance(error, RateLimitError):
            return True
        if isinstance(error, APIConnectionError):
            return idempotent or not error.request_sent
        if isinstance(error, MemhubAPIError):
            return idempotent and error.status in RETRYABLE_STATUSES
        return False
