"""Memories, their sources and chunks: writing a job's outcome, reading, listing, updating, deleting.

Every function takes the connection of a transaction the caller opened (``Database.read``/``write``)
and the tenant to scope by: a memory of another tenant is looked up with ``tenant_id = ?`` in the same
statement, so it is simply not found. Deleting relies on the schema's cascades and triggers (chunks,
sources, vector links, FTS rows, tombstones); vectors stay as a cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.filters import Filter
from memhub.core.models import Chunk, Memory, Page, Scope, SourceRef
from memhub.core.ports import JobOutcome, MemoryOrder, StoredMemory

from ..sql.analysis import KeywordAnalyser
from ..sql.codec import encode_json, encode_time
from ..sql.columns import MEMORY_COLUMNS
from ..sql.cursors import ORDER_COLUMNS, decode_cursor, encode_cursor, memory_listing
from ..sql.rows import chunk_params, memory_params
from ..sql.scope import scope_condition
from ..sql.tenancy import get_space
from ..sql.users import ensure_user
from ..sql.vector_space import check_writer
from .dialect import SQLITE
from .fts import scope_key
from .rows import (
    CHUNK_COLUMNS,
    chunk_from_row,
    model_from_row,
    placeholders,
)
from .scope import filter_condition
from .vectors import store_vectors

_INSERT_MEMORY = (
    "INSERT INTO memories (id, tenant_id, space_id, user_id, session_id, kind, core, text, metadata,"
    " occurred_at, created_at, updated_at, valid_from, valid_to, superseded_by, job_id)"
    f" VALUES ({placeholders(16)})"
)
_INSERT_CHUNK = (
    "INSERT INTO chunks (id, memory_rid, ordinal, text, dense_key, sparse_key, start_offset, end_offset,"
    f" scope_key, keyword_text) VALUES ({placeholders(10)})"
)


# --- writing a job's outcome ------------------------------------------------------------------------
def write_outcome(
    conn: sqlite3.Connection, tenant_id: str, outcome: JobOutcome, now: datetime, analyser: KeywordAnalyser
) -> list[str]:
    """Store the outcome's vectors, memories (with sources, chunks, vector links) and supersessions.

    Returns the ids of the outcome's memories. A memory id that already exists in this tenant is kept
    as it is (deterministic ids make a repeated outcome idempotent); in another tenant it is a Conflict.
    """
    model_id = outcome.model_id or ""
    if not model_id and (outcome.vectors or any(stored.chunks for stored in outcome.memories)):
        raise InvalidInput("JobOutcome.model_id must name the embedder of the outcome's chunk vectors")
    if model_id:
        check_writer(SQLITE, conn, model_id)
    store_vectors(conn, model_id, outcome.vectors)
    for stored in outcome.memories:
        _write_memory(conn, tenant_id, stored, model_id, analyser)
    conn.executemany(
        "UPDATE memories SET valid_to = ?, superseded_by = ?, updated_at = ? WHERE id = ? AND +tenant_id = ?",
        [
            (encode_time(valid_to), new_id, encode_time(now), old_id, tenant_id)
            for old_id, new_id, valid_to in outcome.supersessions(now)
        ],
    )
    return [stored.memory.id for stored in outcome.memories]


def _write_memory(
    conn: sqlite3.Connection, tenant_id: str, stored: StoredMemory, model_id: str, analyser: KeywordAnalyser
) -> None:
    memory = stored.memory
    if memory.tenant_id != tenant_id:
        raise InvalidInput(f"memory {memory.id} names tenant {memory.tenant_id}, the job {tenant_id}")
    existing = conn.execute("SELECT tenant_id FROM memories WHERE id = ?", (memory.id,)).fetchone()
    if existing is not None:
        if existing[0] != tenant_id:
            raise Conflict(f"memory id {memory.id} is already in use")
        return
    get_space(SQLITE, conn, tenant_id, memory.space_id)  # NotFound unless it is the tenant's
    if memory.user_id is not None:
        ensure_user(SQLITE, conn, tenant_id, memory.user_id, memory.created_at)
    rid = _inserted_rid(conn.execute(_INSERT_MEMORY, memory_params(SQLITE, memory)))
    conn.executemany(
        "INSERT INTO memory_sources (memory_rid, ordinal, event_id, external_id) VALUES (?, ?, ?, ?)",
        [(rid, i, source.event_id, source.external_id) for i, source in enumerate(memory.sources)],
    )
    scope = scope_key(tenant_id, memory.space_id, memory.user_id, memory.session_id)
    for stored_chunk in stored.chunks:
        chunk_rid = _inserted_rid(
            conn.execute(
                _INSERT_CHUNK,
                (*chunk_params(stored_chunk.chunk, rid), scope, analyser.text(stored_chunk.chunk.sparse_key)),
            )
        )
        _link_vector(conn, chunk_rid, model_id, stored_chunk.vector_hash)


def _inserted_rid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return cursor.lastrowid


def _link_vector(conn: sqlite3.Connection, chunk_rid: int, model_id: str, vector_hash: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM vectors WHERE model_id = ? AND hash = ?", (model_id, vector_hash)
    ).fetchone()
    if found is None:
        raise InvalidInput(f"no vector for hash {vector_hash!r} of model {model_id!r}: add it to the outcome")
    conn.execute(
        "INSERT INTO chunk_vectors (chunk_rid, model_id, vector_hash) VALUES (?, ?, ?)",
        (chunk_rid, model_id, vector_hash),
    )


# --- reading ----------------------------------------------------------------------------------------
def load_memories(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Memory]:
    """Memories matching ``where`` (on alias ``m``, may end in ORDER BY/LIMIT), sources attached."""
    rows = conn.execute(f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE {where}", params).fetchall()
    sources = _sources(conn, [row["rid"] for row in rows])
    return [model_from_row(Memory, row, sources=sources.get(row["rid"], [])) for row in rows]


def _sources(conn: sqlite3.Connection, rids: list[int]) -> dict[int, list[SourceRef]]:
    found: dict[int, list[SourceRef]] = {}
    for start in range(0, len(rids), 500):
        batch = rids[start : start + 500]
        sql = (
            "SELECT memory_rid, event_id, external_id FROM memory_sources"
            f" WHERE memory_rid IN ({placeholders(len(batch))}) ORDER BY memory_rid, ordinal"
        )
        for rid, event_id, external_id in conn.execute(sql, batch):
            found.setdefault(rid, []).append(SourceRef(event_id=event_id, external_id=external_id))
    return found


def get_memory(conn: sqlite3.Connection, tenant_id: str, memory_id: str) -> Memory:
    found = load_memories(conn, "m.id = ? AND +m.tenant_id = ?", (memory_id, tenant_id))
    if not found:
        raise NotFound(f"memory {memory_id} not found")
    return found[0]


def get_memories(conn: sqlite3.Connection, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]:
    found: dict[str, Memory] = {}
    unique = list(dict.fromkeys(memory_ids))
    for start in range(0, len(unique), 500):
        batch = unique[start : start + 500]
        # The unary + keeps SQLite from scanning the tenant through an index on tenant_id when the ids
        # are the selective part (its planner picks memories_rev for "tenant_id = ? AND id IN (...)").
        where = f"+m.tenant_id = ? AND m.id IN ({placeholders(len(batch))})"
        found.update((memory.id, memory) for memory in load_memories(conn, where, (tenant_id, *batch)))
    return found


def get_chunks(conn: sqlite3.Connection, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
    return {row["id"]: chunk_from_row(row) for row in _chunk_rows(conn, CHUNK_COLUMNS, tenant_id, chunk_ids)}


def sparse_keys(conn: sqlite3.Connection, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
    return {row[0]: row[1] for row in _chunk_rows(conn, "c.id, c.sparse_key", tenant_id, chunk_ids)}


def _chunk_rows(
    conn: sqlite3.Connection, columns: str, tenant_id: str, chunk_ids: Sequence[str]
) -> Iterator[sqlite3.Row]:
    unique = list(dict.fromkeys(chunk_ids))
    for start in range(0, len(unique), 500):
        batch = unique[start : start + 500]
        sql = (
            f"SELECT {columns} FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
            f" WHERE +m.tenant_id = ? AND c.id IN ({placeholders(len(batch))})"
        )
        yield from conn.execute(sql, (tenant_id, *batch))


def memory_chunks(conn: sqlite3.Connection, tenant_id: str, memory_id: str) -> list[Chunk]:
    rid = _memory_rid(conn, tenant_id, memory_id)
    sql = (
        f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
        " WHERE c.memory_rid = ? ORDER BY c.ordinal, c.rid"
    )
    return [chunk_from_row(row) for row in conn.execute(sql, (rid,))]


def _memory_rid(conn: sqlite3.Connection, tenant_id: str, memory_id: str) -> int:
    row = conn.execute(
        "SELECT rid FROM memories WHERE id = ? AND +tenant_id = ?", (memory_id, tenant_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} not found")
    return int(row[0])


def list_memories(
    conn: sqlite3.Connection,
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
    where, params = scope_condition(SQLITE, scope)
    where += filter_condition(conn, flt)
    column = f"m.{ORDER_COLUMNS[order_by]}"
    if after is not None:
        where += f" AND ({column}, m.id) " + ("< (?, ?)" if newest_first else "> (?, ?)")
        params.extend(after)
    direction = "DESC" if newest_first else "ASC"
    where += f" ORDER BY {column} {direction}, m.id {direction} LIMIT ?"
    memories = load_memories(conn, where, [*params, limit + 1])
    if len(memories) <= limit:
        return Page(items=memories)
    last = memories[limit - 1]
    key = (encode_time(getattr(last, ORDER_COLUMNS[order_by])), last.id)
    return Page(items=memories[:limit], next_cursor=encode_cursor(listing, key))


def count_memories(conn: sqlite3.Connection, scope: Scope, flt: Filter | None) -> int:
    """How many memories :func:`list_memories` would list: one ``count(*)``, nothing materialised."""
    where, params = scope_condition(SQLITE, scope)
    where += filter_condition(conn, flt)
    row = conn.execute(f"SELECT count(*) FROM memories m WHERE {where}", params).fetchone()
    return int(row[0])


# --- changing ---------------------------------------------------------------------------------------
def update_metadata(
    conn: sqlite3.Connection, tenant_id: str, memory_id: str, metadata: dict[str, object], now: datetime
) -> Memory:
    updated = conn.execute(
        "UPDATE memories SET metadata = ?, updated_at = ? WHERE id = ? AND +tenant_id = ?",
        (encode_json(metadata), encode_time(now), memory_id, tenant_id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"memory {memory_id} not found")
    return get_memory(conn, tenant_id, memory_id)
