"""One way for a test to wait for something another thread or process does: ask again until it holds.

The timeout is a safety net, not what a test asserts: it is generous (a busy 2-core CI machine), and
when it runs out the test fails with ``message`` and the last value seen, never silently goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 60.0
INTERVAL = 0.05


def poll_until(
    condition: Callable[[], T | None],
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    message: str = "condition not reached",
) -> T:
    """Call ``condition`` until it returns a truthy value, and return that value.

    ``condition`` may itself assert (e.g. "the job has not failed"): its AssertionError ends the wait.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (still not true after {timeout:g}s; last seen: {last!r})")
        time.sleep(interval)


async def apoll_until(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    message: str = "condition not reached",
) -> T:
    """:func:`poll_until` for a coroutine condition; waits with ``asyncio.sleep``, never blocking the loop."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (still not true after {timeout:g}s; last seen: {last!r})")
        await asyncio.sleep(interval)
