"""PostgreSQL's plans for reading vectors, at a given size, before and after the tables are analysed.

    python bench/pg_vector_plans.py [--memories 10000]

SQLite once read every vector link of the model to fetch 50 keyword hits' vectors (its planner started
from the wrong index without statistics; ``docs/decisions/speed-targets.md``). This checks the same reads
on PostgreSQL: an embedded server (``tests/support/postgres.py``), one user with ``--memories`` memories
and another with a fifth as many, 384-d unit vectors, autovacuum off on the vector tables (so the first
plans are those of a store nobody has analysed yet), then ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements
``storage/postgres/vectors.py`` runs: 50 chunks' vectors (a search's keyword hits), 50 cached vectors by
hash (the worker), and the exact search of the big user's scope. Plans are printed with literals cut.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from memhub.core.models import Scope
from memhub.storage import open_store
from memhub.storage.postgres.dialect import POSTGRES
from memhub.storage.sql.scope import scope_condition
from storage.contract import MODEL, Writer
from support.postgres import PostgresServer, start_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=10_000)
    args = parser.parse_args()
    handle = start_postgres(Path(tempfile.mkdtemp(prefix="memhub-pg-plans-")) / "pgdata")
    try:
        server = PostgresServer(handle)
        server.execute("CREATE EXTENSION IF NOT EXISTS vector", "template1")
        url = server.new_database()
        tenant, chunk_ids = _load(url, args.memories)
        _explain_all(url, tenant, random.Random(2).sample(chunk_ids, 50))
    finally:
        handle.cleanup()


def _load(url: str, memories: int) -> tuple[str, list[str]]:
    store = open_store(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("chunks", "chunk_vectors", "memories", "vectors"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    writer = Writer(store)
    tenant, space = writer.tenant("plans")
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    chunk_ids: list[str] = []
    for user, count in (("u1", memories), ("u2", memories // 5)):
        for start in range(0, count, 500):
            n = min(500, count - start)
            raw = rng.standard_normal((n, 384)).astype(np.float32)
            vectors = list(raw / np.linalg.norm(raw, axis=1, keepdims=True))
            texts = [f"{user} memory {start + i} about things" for i in range(n)]
            ingested = writer.memorise(tenant, space, texts, user_id=user, vectors=vectors)
            if user == "u1":
                chunk_ids += ingested.chunk_ids
    store.close()
    print(f"loaded {memories + memories // 5} memories in {time.perf_counter() - started:.0f} s")
    return tenant, chunk_ids


def _explain_all(url: str, tenant: str, chunk_ids: list[str]) -> None:
    query = np.random.default_rng(3).standard_normal(384).astype(np.float32)
    query /= np.linalg.norm(query)
    where, params = scope_condition(POSTGRES, Scope(tenant_id=tenant, user_id="u1"))
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        hashes = [
            row[0]
            for row in conn.execute(
                "SELECT cv.vector_hash FROM chunk_vectors cv JOIN chunks c ON c.rid = cv.chunk_rid"
                " WHERE c.id = ANY(%s)",
                (chunk_ids,),
            )
        ]
        statements = (
            (
                "50 chunks' vectors (fetch_chunk_vectors)",
                "SELECT c.id, cv.embedding FROM chunks c JOIN chunk_vectors cv ON cv.chunk_rid = c.rid"
                " AND cv.model_id = %s WHERE c.id = ANY(%s::text[])",
                (MODEL, chunk_ids),
            ),
            (
                "50 cached vectors by hash (fetch_vectors)",
                "SELECT hash, vector FROM vectors WHERE model_id = %s AND hash = ANY(%s::text[])",
                (MODEL, hashes),
            ),
            (
                "exact search of the user's scope, limit 50 (_exact)",
                "SELECT c.id, m.id, cv.embedding <#> %s AS distance FROM chunk_vectors cv"
                " JOIN memories m ON m.rid = cv.memory_rid JOIN chunks c ON c.rid = cv.chunk_rid"
                f" WHERE cv.model_id = %s AND {where} ORDER BY distance, c.rid LIMIT 50",
                (query, MODEL, *params),
            ),
        )
        for phase in ("never analysed", "after ANALYZE"):
            if phase == "after ANALYZE":
                conn.execute("ANALYZE")
            print(f"===== {phase}")
            for label, statement, values in statements:
                rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, values).fetchall()
                print(f"--- {label}")
                for (line,) in rows:
                    print(re.sub(r"'(\[[^']{60,}|\{[^']{60,})'", "'…'", line))


if __name__ == "__main__":
    main()
