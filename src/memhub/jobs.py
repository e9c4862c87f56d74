"""The worker: claims jobs from the store under a lease, processes them in batches, records the outcome.

Runs as a thread inside ``memhub serve`` by default, or as its own process (``memhub worker``). Because
the queue lives in the store and claims are leases, any number of workers can share one store: a worker
that dies leaves its jobs to be re-claimed when the lease expires; a live one renews the leases of the
batch in hand however long it takes (``core/lease_keeper.py``); a worker shut down gracefully gives its
leases back at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from memhub.core import ids
from memhub.core.errors import MemhubError, ModelRetired, StorageFull, Unavailable
from memhub.core.lease_keeper import LeaseKeeper
from memhub.core.models import Job
from memhub.core.ports import Clock, Embedder, Extractor, Matrix, Store
from memhub.core.processing import IngestProcessor

log = logging.getLogger("memhub.worker")


@dataclass(frozen=True)
class WorkerConfig:
    """How the worker claims work. Every field is a documented setting (``settings.py``)."""

    batch_size: int = 32  # jobs claimed at once; their texts are embedded together
    lease_seconds: float = 60.0  # a crashed worker's jobs are re-claimed after this (live ones renew)
    poll_seconds: float = 0.05  # idle wait between claims when the queue was empty
    max_attempts: int = 3  # a job failing this many times ends ``failed``


class WorkerObserver(Protocol):
    """Told about the worker's embedding calls (the server's /metrics implements it; see api/metrics.py)."""

    def embed_batch(self, size: int, seconds: float) -> None: ...


class ObservedEmbedder:
    """An embedder that reports each call's batch size and duration to an observer.

    Wrapping the worker's embedder, rather than instrumenting the processor, keeps the core free of any
    metrics code: the batches it sees are exactly the ones the worker's jobs asked for.
    """

    def __init__(self, embedder: Embedder, observer: WorkerObserver) -> None:
        self._embedder = embedder
        self._observer = observer

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def dim(self) -> int:
        return self._embedder.dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        started = time.perf_counter()
        vectors = self._embedder.embed(texts)
        self._observer.embed_batch(len(texts), time.perf_counter() - started)
        return vectors


class Worker:
    """One worker loop. ``start()`` runs it in a daemon thread; ``run_until_idle()`` drains in-line."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        extractor: Extractor,
        clock: Clock,
        config: WorkerConfig | None = None,
        observer: WorkerObserver | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config or WorkerConfig()
        if observer is not None:
            embedder = ObservedEmbedder(embedder, observer)
        self._processor = IngestProcessor(store, embedder, extractor, clock)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{ids.new_id()[:8]}"
        self._leases = LeaseKeeper(store, clock, self.owner, self._config.lease_seconds)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._batch_size = self._config.batch_size  # halved on a full disk, doubled back on success

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="memhub-worker", daemon=True)
        self._thread.start()
        log.info("worker %s started", self.owner)

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs (it stops by itself when the store retired its model)."""
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        """New work was submitted: skip the idle wait."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand, then give back every lease still held."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        released = self._store.release_jobs(self.owner)
        log.info("worker %s stopped (%d leases released)", self.owner, released)

    def run_until_idle(self, max_batches: int | None = None) -> int:
        """Process batches until no job is claimable; returns the number of jobs processed."""
        done = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            handled = self.run_once()
            if handled == 0:
                return done
            done += handled
            batches += 1
        return done

    def run_once(self) -> int:
        """Claim one batch and process it. Returns how many jobs were claimed."""
        now = self._clock.now()
        lease_until = now + timedelta(seconds=self._config.lease_seconds)
        jobs = self._store.claim_jobs(self.owner, now, lease_until, self._batch_size)
        if jobs:
            self._process(jobs)
        return len(jobs)

    def _loop(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            try:
                claimed = self.run_once()
            except Exception as exc:  # the loop must survive a store outage (disk full, database down)
                backoff = min(MAX_BACKOFF_SECONDS, max(2 * backoff, 10 * self._config.poll_seconds))
                _log_loop_error(exc, backoff)
                self._stop.wait(backoff)
                continue
            if backoff:
                log.info("worker %s: the store answers again; resuming", self.owner)
                backoff = 0.0
            if claimed == 0:
                self._wake.wait(self._config.poll_seconds)
                self._wake.clear()

    def _process(self, jobs: list[Job]) -> None:
        try:
            with self._leases.keeping([job.id for job in jobs]):
                result = self._processor.process(jobs, self.owner)
        except ModelRetired as exc:
            # `memhub reindex` moved the store to another model: this worker's vectors would be
            # unsearchable. Its jobs go back unharmed (no attempt counted) for a worker on the new model.
            self._store.release_jobs(self.owner)
            self._stop.set()
            log.error("worker %s stops: %s", self.owner, exc.message)
            raise
        except StorageFull:
            self._shrink_after_full_disk(jobs)
            raise
        except Exception as exc:  # e.g. the embedder is unreachable: every job of the batch failed
            log.warning("batch of %d jobs failed: %s", len(jobs), type(exc).__name__)
            failed = {job.id: f"{type(exc).__name__}: {exc}" for job in jobs}
        else:
            failed = result.failed
            self._batch_size = min(self._config.batch_size, 2 * self._batch_size)
            if result.lost:
                log.warning("lost the lease of %d jobs; another worker finishes them", len(result.lost))
        attempts = {job.id: job.attempts for job in jobs}
        for job_id, error in failed.items():
            retry = attempts[job_id] < self._config.max_attempts
            self._store.fail_job(job_id, self.owner, error[:2000], self._clock.now(), retry=retry)

    def _shrink_after_full_disk(self, jobs: list[Job]) -> None:
        """The disk, not the jobs, failed: the jobs go back uncounted (a full disk must not use up their
        attempts) and the next claims take half as many, down to one. Each job is written in its own
        transaction (those written before the disk filled stay done), so this bounds the work embedded
        again after each refusal while space is scarce; SQLite gives back its WAL's space (sqlite/db.py)."""
        self._batch_size = max(1, len(jobs) // 2)
        log.warning("worker %s: the disk is full; next batches of %d jobs", self.owner, self._batch_size)
        with contextlib.suppress(Unavailable):  # then their leases expire instead; the loop backs off
            self._store.release_jobs(self.owner)


MAX_BACKOFF_SECONDS = 30.0
"""Longest pause between two attempts of a worker whose store keeps failing (it doubles up to this)."""


def _log_loop_error(exc: Exception, backoff: float) -> None:
    """One line per failed attempt, fewer as the pauses grow: an outage is expected (the message says
    what failed, never content); anything else also gets its traceback, at debug level."""
    reason = exc.message if isinstance(exc, MemhubError) else type(exc).__name__
    log.warning("worker: the store failed (%s); next attempt in %.1f s", reason, backoff)
    if not isinstance(exc, MemhubError):
        log.debug("worker loop error", exc_info=exc)
