"""Keeping a batch's job leases alive while the worker is still busy with it.

A lease is how the shared queue tells a dead worker from a slow one: when it expires, another worker
takes the job over. A batch can outlast one lease while its worker is alive and well: 32 jobs through a
local LLM at a few seconds each is minutes, against a 60 s lease. Without renewal a second worker would
then extract the same jobs again, the first would lose its finished work at completion ("lost the
lease"), and with enough workers every attempt could be overtaken in turn so that no job ever finishes.

So the worker renews the leases of the batch in hand every third of a lease, from a thread of its own
(extraction and embedding block the worker's thread for seconds at a time). A worker that dies stops
renewing, and its jobs are taken over one lease later, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from .ports import Clock, Store

log = logging.getLogger("memhub.worker")


class LeaseKeeper:
    """Renews ``owner``'s leases of the jobs handed to :meth:`keeping`, for as long as it lasts."""

    def __init__(self, store: Store, clock: Clock, owner: str, lease_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self._owner = owner
        self._lease = timedelta(seconds=lease_seconds)
        self._interval = lease_seconds / 3  # two renewals may fail before the lease runs out

    @contextmanager
    def keeping(self, job_ids: Sequence[str]) -> Iterator[None]:
        """Renew the leases of ``job_ids`` in the background until the block ends."""
        done = threading.Event()
        thread = threading.Thread(
            target=self._renew_until, args=(list(job_ids), done), name="memhub-lease-keeper", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _renew_until(self, job_ids: list[str], done: threading.Event) -> None:
        while job_ids and not done.wait(self._interval):
            try:
                held = self._store.renew_leases(self._owner, job_ids, self._clock.now() + self._lease)
            except Exception:  # a transient store error: the next round tries again within the lease
                log.warning("could not renew the leases of %d jobs; retrying", len(job_ids), exc_info=True)
                continue
            if len(held) < len(job_ids):
                # Finished, failed or taken over: none of them needs a lease from this worker any more.
                log.debug("%d of %d leases no longer held", len(job_ids) - len(held), len(job_ids))
                job_ids = held
