"""The retry decision on its own (sans-I/O): which failures, how long, how many times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from memhub.client import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    MemhubAPIError,
    NotFoundError,
    NotImplementedServerError,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
)
from memhub.client._retry import parse_retry_after


def policy(**kw: float) -> RetryPolicy:
    return RetryPolicy(rng=lambda: 0.5, **kw)  # type: ignore[arg-type]


def test_retry_after_as_seconds_and_as_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3", now.timestamp()) == 3.0
    assert parse_retry_after("0.25", now.timestamp()) == 0.25
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now.timestamp()) == pytest.approx(30.0)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now.timestamp()) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk, now.timestamp()) is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    p = policy(base_delay=0.5, max_delay=3.0)
    assert [p.backoff(n) for n in range(5)] == pytest.approx([0.4375, 0.875, 1.75, 2.625, 2.625])
    full = RetryPolicy(base_delay=1.0, rng=lambda: 0.999)
    assert 0.75 <= full.backoff(0) <= 1.0


def test_retry_after_is_used_as_a_floor() -> None:
    error = RateLimitError("slow", retry_after=2.0)
    delay = policy().delay(0, error, idempotent=False)
    assert delay is not None and 2.0 <= delay <= 2.1


def test_rate_limit_without_hint_backs_off() -> None:
    assert policy(base_delay=0.5).delay(1, RateLimitError("slow"), idempotent=True) == pytest.approx(0.875)


def test_attempts_are_bounded() -> None:
    error = ServiceUnavailableError("down")
    p = policy(max_retries=2)
    assert p.delay(0, error, idempotent=True) is not None
    assert p.delay(1, error, idempotent=True) is not None
    assert p.delay(2, error, idempotent=True) is None


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (ServiceUnavailableError("x"), True, True),
        (ServiceUnavailableError("x"), False, False),
        (MemhubAPIError("x", status=502), True, True),
        (MemhubAPIError("x", status=504), True, True),
        (InternalServerError("x"), True, False),
        (NotImplementedServerError("x"), True, False),
        (NotFoundError("x"), True, False),
        (RateLimitError("x"), False, True),
        (APIConnectionError("x", request_sent=True), True, True),
        (APIConnectionError("x", request_sent=True), False, False),
        (APIConnectionError("x", request_sent=False), False, True),
        (APITimeoutError("x", request_sent=True), True, True),
        (APITimeoutError("x", request_sent=True), False, False),
    ],
)
def test_what_is_retried(error: Exception, idempotent: bool, retried: bool) -> None:
    assert RetryPolicy.retryable(error, idempotent=idempotent) is retried  # type: ignore[arg-type]
