"""Vectors in PostgreSQL (pgvector): the hash-keyed cache, per-model HNSW indexes, and vector search.

Storage follows the SQLite store: ``vectors`` maps ``(model_id, content hash)`` to a normalised vector, so
a text whose hash is known is never embedded again, and outlives the chunks using it. Each chunk's link
row in ``chunk_vectors`` carries a copy of its vector and its memory's ``rid``: the nearest-neighbour
query then reads one table and joins ``memories`` for the scope.

Scores are inner products of unit vectors, i.e. cosines — the same number the SQLite store reports
(``<#>`` is the *negative* inner product). Zero vectors score 0 with both stores.

Two ways to search, chosen per query:

- **exact** — ``ORDER BY embedding <#> q`` over the scope's rows: per-user and per-session queries
  (the planner starts from the ``memories_user`` / ``memories_session`` index, so the cost is the scope's
  size, not the tenant's), and any scope with fewer than :data:`EXACT_MAX` memories;
- **HNSW** — a per-model index on ``(embedding::vector(dim))`` (an HNSW index needs a fixed dimension;
  it is partial on ``model_id``), for wide scopes. The scope and the metadata filter are applied *while*
  the index is walked, with ``hnsw.iterative_scan = relaxed_order`` so the walk goes on until ``limit``
  rows pass them (measured for this issue: a filtered HNSW query without it returned ~0.6 of 10 rows),
  and ``ef_search`` at least ``limit``. Should the walk still come back short (it stops after
  ``hnsw.max_scan_tuples``), the query is answered exactly instead: never fewer hits than exist.

The settings (``ef_search`` 100, ``ef_construction`` 32, ``m`` 16, ``EXACT_MAX`` 2,000) were chosen by
measurement on real embeddings: recall ≈ 1 with the walk at 2-4 ms while the exact scan grows with the
scope, and HNSW inserts (nearly all of the ingest cost) cheaper with the lower ``ef_construction``.
The table, the command and the random-vector worst case: docs/decisions/postgres-hnsw-settings.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pgvector import Vector as PgVector
from psycopg import sql

from memhub.core.errors import InvalidInput
from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit, Vector

from ..sql.codec import normalised
from ..sql.scope import scope_condition
from ..sql.vector_space import read_space, refuse_retired
from .db import Conn
from .dialect import POSTGRES
from .scope import filter_condition

EXACT_MAX = 2_000
"""Scopes with fewer memories than this are searched exactly (≤ ~5 ms); wider ones through HNSW."""

EF_SEARCH_MIN = 100
"""``hnsw.ef_search`` for wide scopes (pgvector's default is 40): recall@10 ≥ .995 on real embeddings
(table above). Raise it (or ``EXACT_MAX``) where exact answers matter more than latency."""

HNSW_M = 16
"""Graph degree of new HNSW indexes (pgvector's ``m``; existing indexes keep theirs)."""

HNSW_EF_CONSTRUCTION = 32
"""Candidates considered per insert into a new HNSW index (pgvector's ``ef_construction``)."""

ITERATIVE_SCAN = "relaxed_order"
"""``hnsw.iterative_scan`` for index walks: go on past ``ef_search`` until ``limit`` rows pass the scope."""

MAX_SCAN_TUPLES = 20_000
"""``hnsw.max_scan_tuples``: where an iterative walk gives up (then the exact scan answers)."""


def model_dim(conn: Conn, model_id: str) -> int | None:
    row = conn.execute("SELECT dim FROM models WHERE model_id = %s", (model_id,)).fetchone()
    return None if row is None else int(row["dim"])


def ensure_model(conn: Conn, model_id: str, dim: int) -> None:
    """Register a model's dimension on first sight, with its HNSW index (a no-op afterwards)."""
    added = conn.execute(
        "INSERT INTO models (model_id, dim) VALUES (%s, %s) ON CONFLICT DO NOTHING", (model_id, dim)
    )
    if added.rowcount == 0:
        return
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON chunk_vectors USING hnsw"
            " ((embedding::vector({dim})) vector_ip_ops) WITH (m = {m}, ef_construction = {ef})"
            " WHERE model_id = {model}"
        ).format(
            name=sql.Identifier(_index_name(model_id)),
            dim=sql.Literal(dim),
            m=sql.Literal(HNSW_M),
            ef=sql.Literal(HNSW_EF_CONSTRUCTION),
            model=sql.Literal(model_id),
        )
    )


def _index_name(model_id: str) -> str:
    return "chunk_vectors_hnsw_" + hashlib.sha256(model_id.encode()).hexdigest()[:16]


def store_vectors(conn: Conn, model_id: str, vectors: Mapping[str, Vector]) -> dict[str, Vector]:
    """Insert new vectors (normalised); a hash already stored keeps its vector.

    Returns the vectors this call stored, by hash (not those already there). They go in with one binary
    ``COPY`` into a staging table and one ``INSERT … ON CONFLICT DO NOTHING`` (COPY cannot skip
    conflicts): two statements for a 500-vector job instead of 500 (pipelined) INSERTs.
    """
    if not vectors:
        return {}
    unit = {vector_hash: normalised(raw) for vector_hash, raw in vectors.items()}
    dims = {len(vector) for vector in unit.values()}
    dim = model_dim(conn, model_id) or min(dims)
    if dims != {dim}:
        raise InvalidInput(f"model {model_id!r} has {dim}-dim vectors; got {sorted(dims - {dim})} dims")
    ensure_model(conn, model_id, dim)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS vectors_in (hash text, vector vector) ON COMMIT DELETE ROWS"
    )
    with conn.cursor() as cur, cur.copy("COPY vectors_in FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["text", "vector"])
        for row in unit.items():
            copy.write_row(row)
    added = conn.execute(  # the DELETE empties the staging table for a next call in this transaction
        "WITH staged AS (DELETE FROM vectors_in RETURNING hash, vector)"
        " INSERT INTO vectors (model_id, hash, vector) SELECT %s, hash, vector FROM staged"
        " ON CONFLICT DO NOTHING RETURNING hash",
        (model_id,),
    ).fetchall()
    return {row["hash"]: unit[row["hash"]] for row in added}


def link_chunk_vectors(conn: Conn, model_id: str, links: Sequence[tuple[int, str]]) -> None:
    """Link chunks ``(rid, hash)`` to their stored vectors of ``model_id``, with the copy searches read."""
    if not links:
        return
    rids, hashes = zip(*links, strict=True)
    conn.execute(
        "INSERT INTO chunk_vectors (chunk_rid, model_id, vector_hash, memory_rid, embedding)"
        " SELECT c.rid, v.model_id, v.hash, c.memory_rid, v.vector"
        " FROM unnest(%s::bigint[], %s::text[]) AS l(rid, hash)"
        " JOIN chunks c ON c.rid = l.rid JOIN vectors v ON v.model_id = %s AND v.hash = l.hash"
        " ON CONFLICT DO NOTHING",
        (list(rids), list(hashes), model_id),
    )


def retire_models(conn: Conn, active: str) -> None:
    """After the switch to ``active``: the other models' HNSW indexes and registrations go too."""
    rows = conn.execute("SELECT model_id FROM models WHERE model_id <> %s", (active,)).fetchall()
    for row in rows:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(_index_name(row["model_id"]))))
    conn.execute("DELETE FROM models WHERE model_id <> %s", (active,))


def fetch_vectors(conn: Conn, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
    with conn.cursor(binary=True) as cur:
        cur.execute(
            "SELECT hash, vector FROM vectors WHERE model_id = %s AND hash = ANY(%s::text[])",
            (model_id, list(dict.fromkeys(hashes))),
        )
        return {row["hash"]: _array(row["vector"]) for row in cur}


def fetch_chunk_vectors(conn: Conn, model_id: str, chunk_ids: Sequence[str]) -> dict[str, Vector]:
    with conn.cursor(binary=True) as cur:
        cur.execute(
            "SELECT c.id, cv.embedding FROM chunks c"
            " JOIN chunk_vectors cv ON cv.chunk_rid = c.rid AND cv.model_id = %s"
            " WHERE c.id = ANY(%s::text[])",
            (model_id, list(dict.fromkeys(chunk_ids))),
        )
        return {row["id"]: _array(row["embedding"]) for row in cur}


def _array(value: Any) -> Vector:
    if isinstance(value, PgVector):
        return value.to_numpy().astype(np.float32)
    return np.asarray(value, dtype=np.float32)


def vector_search(
    conn: Conn, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
) -> list[ChunkHit]:
    if limit <= 0:
        return []
    dim = model_dim(conn, model_id)
    if dim is None:  # no vectors of this model: is it one a reindex retired?
        refuse_retired(read_space(POSTGRES, conn), model_id, "this server embeds queries with")
        return []
    query = normalised(vector)
    if len(query) != dim:
        raise InvalidInput(f"model {model_id!r} has {dim}-dim vectors; the query has {len(query)}")
    if _wide(conn, scope):
        hits = _approximate(conn, scope, flt, model_id, dim, query, limit)
        if len(hits) == limit:
            return hits
    return _exact(conn, scope, flt, model_id, query, limit)


def _wide(conn: Conn, scope: Scope) -> bool:
    """Whether the scope is worth an index walk: no user or session, and at least EXACT_MAX memories."""
    if scope.user_id is not None or scope.session_id is not None:
        return False
    where, params = scope_condition(POSTGRES, scope)
    row = conn.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM memories m WHERE {where} LIMIT %s) AS s",
        (*params, EXACT_MAX),
    ).fetchone()
    return row is not None and int(row["n"]) >= EXACT_MAX


def _exact(
    conn: Conn, scope: Scope, flt: Filter | None, model_id: str, query: Vector, limit: int
) -> list[ChunkHit]:
    where, params = scope_condition(POSTGRES, scope)
    where += filter_condition(flt, params)
    statement = (
        "SELECT c.id AS chunk_id, m.id AS memory_id, cv.embedding <#> %s AS distance"
        f" FROM {_JOINED}"
        f" WHERE cv.model_id = %s AND {where} ORDER BY distance, c.rid LIMIT %s"
    )
    rows = conn.execute(statement, (query, model_id, *params, limit)).fetchall()
    return [_hit(row) for row in rows]


def _approximate(
    conn: Conn, scope: Scope, flt: Filter | None, model_id: str, dim: int, query: Vector, limit: int
) -> list[ChunkHit]:
    conn.execute(
        "SELECT set_config('hnsw.iterative_scan', %s, true), set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.max_scan_tuples', %s, true)",
        (ITERATIVE_SCAN, str(max(EF_SEARCH_MIN, limit)), str(MAX_SCAN_TUPLES)),
    )
    where, params = scope_condition(POSTGRES, scope)
    where += filter_condition(flt, params)
    # The index expression and its partial predicate must appear verbatim (model id as a literal) for
    # the planner to use the index; relaxed order means the outer query sorts the walk's results.
    statement = sql.SQL(
        "SELECT * FROM (SELECT c.id AS chunk_id, m.id AS memory_id, c.rid,"
        " (cv.embedding::vector({dim})) <#> %s::vector({dim}) AS distance"
        f" FROM {_JOINED}"
        " WHERE cv.model_id = {model} AND {where}"
        " ORDER BY (cv.embedding::vector({dim})) <#> %s::vector({dim}) LIMIT %s) AS walk"
        " ORDER BY distance, rid"
    ).format(dim=sql.Literal(dim), model=sql.Literal(model_id), where=sql.SQL(where))
    rows = conn.execute(statement, (query, *params, query, limit)).fetchall()
    return [_hit(row) for row in rows]


_JOINED = "chunk_vectors cv JOIN memories m ON m.rid = cv.memory_rid JOIN chunks c ON c.rid = cv.chunk_rid"


def _hit(row: dict[str, Any]) -> ChunkHit:
    return ChunkHit(chunk_id=row["chunk_id"], memory_id=row["memory_id"], score=-float(row["distance"]))
