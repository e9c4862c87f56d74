"""Memories, their sources and chunks on PostgreSQL — twin of ``sqlite/memories.py``.

Writing a job's outcome is the bulk path of ingestion (a batch of documents can make thousands of
chunks), so its rows go in with binary ``COPY``: row ids are reserved up front from the identity
sequences (``nextval`` per row, one statement), which lets chunks, sources and vector links name their
memory's ``rid`` without a round trip per row. Every lookup names the tenant in the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.filters import Filter
from memhub.core.models import Chunk, Memory, Page, Scope, SourceRef
from memhub.core.ports import JobOutcome, MemoryOrder, StoredMemory, Vector

from ..sql.analysis import KeywordAnalyser
from ..sql.codec import encode_time
from ..sql.columns import MEMORY_COLUMNS
from ..sql.cursors import ORDER_COLUMNS, decode_cursor, encode_cursor, memory_listing
from ..sql.rows import chunk_params, memory_params
from ..sql.scope import scope_condition
from ..sql.tenancy import get_space
from ..sql.users import ensure_user
from ..sql.vector_space import check_writer
from .db import Conn
from .dialect import POSTGRES
from .rows import (
    CHUNK_COLUMNS,
    MEMORY_COPY_TYPES,
    MEMORY_INSERT_COLUMNS,
    chunk_from_row,
    memory_from_row,
    utc,
)
from .scope import filter_condition
from .vectors import fetch_vectors, store_vectors


# --- writing a job's outcome ------------------------------------------------------------------------
def write_outcome(
    conn: Conn, tenant_id: str, outcome: JobOutcome, now: datetime, analyser: KeywordAnalyser
) -> list[str]:
    """Store the outcome's vectors, memories (with sources, chunks, vector links) and supersessions.

    Returns the ids of the outcome's memories. A memory id that already exists in this tenant is kept
    as it is (deterministic ids make a repeated outcome idempotent); in another tenant it is a Conflict.
    """
    model_id = outcome.model_id or ""
    if not model_id and (outcome.vectors or any(stored.chunks for stored in outcome.memories)):
        raise InvalidInput("JobOutcome.model_id must name the embedder of the outcome's chunk vectors")
    if model_id:
        check_writer(POSTGRES, conn, model_id)
    stored = store_vectors(conn, model_id, outcome.vectors)
    fresh = _new_memories(conn, tenant_id, outcome.memories)
    if fresh:
        _check_owners(conn, tenant_id, fresh)
        _copy_memories(conn, fresh, model_id, stored, analyser)
    if outcome.supersede:
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE memories SET valid_to = %s, superseded_by = %s, updated_at = %s"
                " WHERE id = %s AND tenant_id = %s",
                [
                    (utc(valid_to), new, utc(now), old, tenant_id)
                    for old, new, valid_to in outcome.supersessions(now)
                ],
            )
    return [stored.memory.id for stored in outcome.memories]


def _new_memories(conn: Conn, tenant_id: str, memories: list[StoredMemory]) -> list[StoredMemory]:
    for stored in memories:
        if stored.memory.tenant_id != tenant_id:
            raise InvalidInput(
                f"memory {stored.memory.id} names tenant {stored.memory.tenant_id}, the job {tenant_id}"
            )
    ids = [stored.memory.id for stored in memories]
    rows = conn.execute("SELECT id, tenant_id FROM memories WHERE id = ANY(%s::text[])", (ids,)).fetchall()
    existing = {row["id"]: row["tenant_id"] for row in rows}
    for memory_id, owner in existing.items():
        if owner != tenant_id:
            raise Conflict(f"memory id {memory_id} is already in use")
    unique = {stored.memory.id: stored for stored in memories if stored.memory.id not in existing}
    return list(unique.values())


def _check_owners(conn: Conn, tenant_id: str, fresh: list[StoredMemory]) -> None:
    for space_id in {stored.memory.space_id for stored in fresh}:
        get_space(POSTGRES, conn, tenant_id, space_id)  # NotFound unless it is the tenant's
    first_seen = {s.memory.user_id: s.memory.created_at for s in reversed(fresh) if s.memory.user_id}
    for user_id, created_at in first_seen.items():
        ensure_user(POSTGRES, conn, tenant_id, user_id, created_at)


def _reserve(conn: Conn, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    rows = conn.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'rid')) AS rid FROM generate_series(1, %s)",
        (table, count),
    ).fetchall()
    return [int(row["rid"]) for row in rows]


def _copy_memories(
    conn: Conn,
    fresh: list[StoredMemory],
    model_id: str,
    stored: dict[str, Vector],
    analyser: KeywordAnalyser,
) -> None:
    memory_rids = _reserve(conn, "memories", len(fresh))
    chunk_count = sum(len(memory.chunks) for memory in fresh)
    chunk_rids = iter(_reserve(conn, "chunks", chunk_count))
    sources: list[tuple[Any, ...]] = []
    chunks: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    for rid, memory in zip(memory_rids, fresh, strict=True):
        sources.extend((rid, i, s.event_id, s.external_id) for i, s in enumerate(memory.memory.sources))
        for stored_chunk in memory.chunks:
            chunk_rid = next(chunk_rids)
            chunk = stored_chunk.chunk
            chunks.append((chunk_rid, *chunk_params(chunk, rid), analyser.text(chunk.sparse_key)))
            links.append((chunk_rid, model_id, stored_chunk.vector_hash, rid))
    vectors = _link_vectors(conn, model_id, {link[2] for link in links}, stored)
    rows = [
        (rid, *memory_params(POSTGRES, memory.memory)) for rid, memory in zip(memory_rids, fresh, strict=True)
    ]
    _copy(conn, f"memories ({MEMORY_INSERT_COLUMNS})", MEMORY_COPY_TYPES, rows)
    _copy(conn, "memory_sources (memory_rid, ordinal, event_id, external_id)", _SOURCE_TYPES, sources)
    _copy_chunks(conn, chunks)
    _copy(
        conn, f"chunk_vectors ({_LINK_COLUMNS})", _LINK_TYPES, [(*link, vectors[link[2]]) for link in links]
    )


_SOURCE_TYPES = ["bigint", "integer", "text", "text"]
_LINK_COLUMNS = "chunk_rid, model_id, vector_hash, memory_rid, embedding"
_LINK_TYPES = ["bigint", "text", "text", "bigint", "vector"]
_CHUNK_INSERT = "rid, id, memory_rid, ordinal, text, dense_key, sparse_key, start_offset, end_offset, tsv"
_CHUNK_TYPES = ["bigint", "text", "bigint", "integer", "text", "text", "text", "integer", "integer", "text"]


def _copy(conn: Conn, target: str, types: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _copy_chunks(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    """COPY cannot call ``to_tsvector()``: chunks (with analysed text) go to a staging table, then one
    ``INSERT … SELECT`` computes their ``tsv``. The staging table empties itself at commit."""
    if not rows:
        return
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS chunks_in (rid bigint, id text, memory_rid bigint, ordinal integer,"
        " text text, dense_key text, sparse_key text, start_offset integer, end_offset integer, folded text)"
        " ON COMMIT DELETE ROWS"
    )
    columns = _CHUNK_INSERT.replace("tsv", "folded")
    with conn.cursor() as cur, cur.copy(f"COPY chunks_in ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_CHUNK_TYPES)
        for row in rows:
            copy.write_row(row)
    conn.execute(
        f"INSERT INTO chunks ({_CHUNK_INSERT}) SELECT {columns.replace('folded', '')}"
        " to_tsvector('simple', folded) FROM chunks_in"
    )


def _link_vectors(
    conn: Conn, model_id: str, hashes: set[str], stored: dict[str, Vector]
) -> dict[str, Vector]:
    """The vector each link carries: the one this outcome just stored, else the cache's (one lookup).

    Links are written straight from these (binary COPY). They used to be copied from the cache with
    ``INSERT … SELECT … JOIN vectors``, which PostgreSQL (no statistics on a staging table) planned as
    a hash join over the *whole* cache, a scan growing with the store (28 ms of each 500-memory job
    at 3.5k vectors already). Measured without the HNSW index, to see the rest of the write path
    (``bench/scale.py``'s writer, 50k memories): that, and COPY instead of ``executemany`` for
    vectors and events, took it from 1,226 memories/s falling to 845/s to a steady ~2,200/s.
    """
    wanted = sorted(hashes - stored.keys())
    found = {**fetch_vectors(conn, model_id, wanted), **stored} if wanted else stored
    missing = hashes - found.keys()
    if missing:
        raise InvalidInput(
            f"no vector for hash {sorted(missing)[0]!r} of model {model_id!r}: add it to the outcome"
        )
    return found


# --- reading ----------------------------------------------------------------------------------------
def load_memories(conn: Conn, where: str, params: Sequence[Any]) -> list[Memory]:
    """Memories matching ``where`` (on alias ``m``, may end in ORDER BY/LIMIT), sources attached."""
    rows = conn.execute(f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE {where}", params).fetchall()
    sources = _sources(conn, [row["rid"] for row in rows])
    return [memory_from_row(row, sources.get(row["rid"], [])) for row in rows]


def _sources(conn: Conn, rids: list[int]) -> dict[int, list[SourceRef]]:
    found: dict[int, list[SourceRef]] = {}
    if not rids:
        return found
    rows = conn.execute(
        "SELECT memory_rid, event_id, external_id FROM memory_sources"
        " WHERE memory_rid = ANY(%s::bigint[]) ORDER BY memory_rid, ordinal",
        (rids,),
    )
    for row in rows:
        found.setdefault(row["memory_rid"], []).append(
            SourceRef(event_id=row["event_id"], external_id=row["external_id"])
        )
    return found


def get_memory(conn: Conn, tenant_id: str, memory_id: str) -> Memory:
    found = load_memories(conn, "m.id = %s AND m.tenant_id = %s", (memory_id, tenant_id))
    if not found:
        raise NotFound(f"memory {memory_id} not found")
    return found[0]


def get_memories(conn: Conn, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]:
    unique = list(dict.fromkeys(memory_ids))
    found = load_memories(conn, "m.id = ANY(%s::text[]) AND m.tenant_id = %s", (unique, tenant_id))
    return {memory.id: memory for memory in found}


def get_chunks(conn: Conn, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
    rows = conn.execute(
        f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
        " WHERE c.id = ANY(%s::text[]) AND m.tenant_id = %s",
        (list(dict.fromkeys(chunk_ids)), tenant_id),
    )
    return {row["id"]: chunk_from_row(row) for row in rows}


def sparse_keys(conn: Conn, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT c.id, c.sparse_key FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
        " WHERE c.id = ANY(%s::text[]) AND m.tenant_id = %s",
        (list(dict.fromkeys(chunk_ids)), tenant_id),
    )
    return {row["id"]: row["sparse_key"] for row in rows}


def memory_chunks(conn: Conn, tenant_id: str, memory_id: str) -> list[Chunk]:
    rows = conn.execute(
        f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
        " WHERE m.id = %s AND m.tenant_id = %s ORDER BY c.ordinal, c.rid",
        (memory_id, tenant_id),
    ).fetchall()
    if not rows and not _exists(conn, tenant_id, memory_id):
        raise NotFound(f"memory {memory_id} not found")
    return [chunk_from_row(row) for row in rows]


def _exists(conn: Conn, tenant_id: str, memory_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM memories WHERE id = %s AND tenant_id = %s", (memory_id, tenant_id)
    ).fetchone()
    return row is not None


def list_memories(
    conn: Conn,
    scope: Scope,
    flt: Filter | None,
    cursor: str | None,
    limit: int,
    newest_first: bool,
    order_by: MemoryOrder = "created_at",
) -> Page:
    """Keyset pages ordered by ``(order_by, id)``, newest first unless asked otherwise."""
    listing = memory_listing(newest_first, order_by)
    after = decode_cursor(listing, cursor, 2)
    where, params = scope_condition(POSTGRES, scope)
    where += filter_condition(flt, params)
    column = f"m.{ORDER_COLUMNS[order_by]}"
    if after is not None:
        where += f" AND ({column}, m.id) " + ("<" if newest_first else ">") + " (%s::timestamptz, %s)"
        params.extend(after)
    direction = "DESC" if newest_first else "ASC"
    where += f" ORDER BY {column} {direction}, m.id {direction} LIMIT %s"
    memories = load_memories(conn, where, [*params, limit + 1])
    if len(memories) <= limit:
        return Page(items=memories)
    last = memories[limit - 1]
    key = (encode_time(getattr(last, ORDER_COLUMNS[order_by])), last.id)
    return Page(items=memories[:limit], next_cursor=encode_cursor(listing, key))


def count_memories(conn: Conn, scope: Scope, flt: Filter | None) -> int:
    """How many memories :func:`list_memories` would list: one ``count(*)``, nothing materialised."""
    where, params = scope_condition(POSTGRES, scope)
    where += filter_condition(flt, params)
    row = conn.execute(f"SELECT count(*) AS n FROM memories m WHERE {where}", params).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return int(row["n"])


# --- changing ---------------------------------------------------------------------------------------
def update_metadata(
    conn: Conn, tenant_id: str, memory_id: str, metadata: dict[str, object], now: datetime
) -> Memory:
    updated = conn.execute(
        "UPDATE memories SET metadata = %s, updated_at = %s WHERE id = %s AND tenant_id = %s",
        (Jsonb(metadata), utc(now), memory_id, tenant_id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"memory {memory_id} not found")
    return get_memory(conn, tenant_id, memory_id)
