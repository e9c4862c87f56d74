"""Vectors in the file, and each process's in-memory indexes of them kept in step with the file.

Storage: ``vectors`` maps ``(model_id, content hash)`` to a float32 BLOB, so a text whose hash is known is
never embedded again; ``chunk_vectors`` links a chunk to its vector per model. Vectors are a cache that
outlives the chunks using them (deleting a memory leaves them).

Why an in-memory index at all: this SQLite has no loadable extensions (no sqlite-vec), and scanning
BLOBs through SQL per query is orders of magnitude too slow; numpy over a resident matrix is exact and
fast (the choice and its numbers are in ``vector_matrix.py``; ``bench/vector_search.py`` measures).
It costs memory — about 2 KB per 384-d chunk (float32 + int8 copies) plus ids — and a load on the
first search of a (tenant, model) in each process (docs/decisions/sqlite-exact-vector-search.md). The hard
part is keeping the matrix right when *another process* — a worker adding memories, a CLI deleting
some — writes the same file.

How: the schema's triggers give every change to ``memories`` a new value of the revision counter
``meta.rev`` (stored in the row's ``rev``), and every deletion a row in ``tombstones`` under its rev.
Each search reads ``meta.rev`` (one indexed lookup); if it moved since this process's index of the
tenant last caught up, the index reads — in the same read transaction, so one consistent snapshot —
the tenant's memories with a newer ``rev`` (new ones bring their chunks' vectors; changed ones update
superseded / metadata / ...) and the newer tombstones. Chunks are immutable and written with their
memory, so "memory is new" is exactly "its chunks are new". Tombstones are pruned past
:data:`TOMBSTONES_KEPT`, raising ``meta.tombstone_floor``; an index older than the floor reloads whole.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from memhub.core.errors import InvalidInput
from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit, Vector, VectorSpace

from ..sql.codec import decode_vector, encode_vector, normalised
from ..sql.vector_space import READ_SPACE, refuse_retired
from .db import Database
from .rows import placeholders
from .vector_index import MemoryRecord, VectorIndex

TOMBSTONES_KEPT = 100_000
"""Deletions remembered for catching up; a process that slept through more reloads its index."""


def store_vectors(conn: sqlite3.Connection, model_id: str, vectors: Mapping[str, Vector]) -> None:
    """Insert new vectors (normalised); a hash already stored keeps its vector."""
    if not vectors:
        return
    dim = _model_dim(conn, model_id)
    rows = []
    for vector_hash, raw in vectors.items():
        vector = normalised(raw)
        if dim is not None and len(vector) != dim:
            raise InvalidInput(f"model {model_id!r} has {dim}-dim vectors; got {len(vector)} dims")
        dim = len(vector)
        rows.append((model_id, vector_hash, dim, encode_vector(vector)))
    conn.executemany("INSERT OR IGNORE INTO vectors (model_id, hash, dim, vector) VALUES (?, ?, ?, ?)", rows)


def link_chunk_vectors(conn: sqlite3.Connection, model_id: str, links: Sequence[tuple[int, str]]) -> None:
    """Link chunks ``(rid, hash)`` to their stored vectors of ``model_id`` (reindex: the chunks exist
    already, so no revision moves; ``retire_models`` makes every index reload at the switch)."""
    conn.executemany(
        "INSERT OR IGNORE INTO chunk_vectors (chunk_rid, model_id, vector_hash)"
        " SELECT c.rid, v.model_id, v.hash FROM chunks c, vectors v"
        " WHERE c.rid = ? AND v.model_id = ? AND v.hash = ?",
        [(rid, model_id, vector_hash) for rid, vector_hash in links],
    )


def retire_models(conn: sqlite3.Connection) -> None:
    """After the switch to another model: every process's indexes reload from the file.

    Raising the tombstone floor past every revision an index can hold makes the next search of each
    (tenant, model) load it whole — the new model's index sees the vectors the reindex added to
    unchanged memories, the old model's is found empty.
    """
    conn.execute(_BUMP_REV)
    conn.execute(
        "UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'rev') WHERE key = 'tombstone_floor'"
    )


_BUMP_REV = "UPDATE meta SET value = value + 1 WHERE key = 'rev'"


def _model_dim(conn: sqlite3.Connection, model_id: str) -> int | None:
    row = conn.execute("SELECT dim FROM vectors WHERE model_id = ? LIMIT 1", (model_id,)).fetchone()
    return None if row is None else int(row[0])


def fetch_vectors(conn: sqlite3.Connection, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
    found: dict[str, Vector] = {}
    for batch in _batches(list(dict.fromkeys(hashes))):
        sql = f"SELECT hash, vector FROM vectors WHERE model_id = ? AND hash IN ({placeholders(len(batch))})"
        for row in conn.execute(sql, (model_id, *batch)):
            found[row[0]] = decode_vector(row[1])
    return found


def fetch_chunk_vectors(
    conn: sqlite3.Connection, model_id: str, chunk_ids: Sequence[str]
) -> dict[str, Vector]:
    found: dict[str, Vector] = {}
    for batch in _batches(list(dict.fromkeys(chunk_ids))):
        sql = (  # CROSS JOIN: chunks by id first (see _JOIN_ORDER)
            "SELECT c.id, v.vector FROM chunks c"
            " CROSS JOIN chunk_vectors cv ON cv.chunk_rid = c.rid AND cv.model_id = ?"
            " JOIN vectors v ON v.model_id = cv.model_id AND v.hash = cv.vector_hash"
            f" WHERE c.id IN ({placeholders(len(batch))})"
        )
        for row in conn.execute(sql, (model_id, *batch)):
            found[row[0]] = decode_vector(row[1])
    return found


def _batches(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def scrub_deleted(conn: sqlite3.Connection) -> None:
    """After rows were deleted: tombstones pruned, and the FTS index rewritten as one segment.

    FTS5 deletes by appending delete markers (which name the deleted words) to a new segment; the
    words and their positions stay in the older segments until a merge happens to reach them. So a
    delete would leave the forgotten words in the file for an unbounded time: ``optimize`` merges every
    segment into one without them, and ``secure_delete`` (``db.py``) zeroes the pages it frees. It reads
    and rewrites the whole index, which is what forgetting costs here (docs/decisions/forget-on-disk.md).
    """
    prune_tombstones(conn)
    conn.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')")


def prune_tombstones(conn: sqlite3.Connection) -> None:
    """Keep the newest :data:`TOMBSTONES_KEPT` tombstones once there are twice as many (cheap check)."""
    span = conn.execute("SELECT max(rowid) - min(rowid) + 1 FROM tombstones").fetchone()[0]
    if span is None or span <= 2 * TOMBSTONES_KEPT:
        return
    cutoff = conn.execute(
        "SELECT rev FROM tombstones ORDER BY rev DESC LIMIT 1 OFFSET ?", (TOMBSTONES_KEPT,)
    ).fetchone()
    if cutoff is not None:
        conn.execute("DELETE FROM tombstones WHERE rev <= ?", (cutoff[0],))
        conn.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'tombstone_floor'", (cutoff[0],))


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    index: VectorIndex | None = None
    rev: int = -1


class VectorIndexes:
    """This process's indexes, one per (tenant, model), each caught up before it is searched."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def search(
        self, db: Database, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        if limit <= 0:
            return []
        index = self.current(db, scope.tenant_id, model_id)
        return index.search(scope, flt, normalised(vector), limit)

    def vectors(
        self, db: Database, tenant_id: str, model_id: str, chunk_ids: Sequence[str]
    ) -> dict[str, Vector]:
        """The stored vectors of those of ``chunk_ids`` the tenant's caught-up index holds; none if no
        search has built that index: a keyword-only workload must not load a whole tenant's matrix."""
        with self._lock:
            if (tenant_id, model_id) not in self._entries:
                return {}
        return self._caught_up(db, tenant_id, model_id).vectors(chunk_ids)

    def current(self, db: Database, tenant_id: str, model_id: str) -> VectorIndex:
        """The index of ``(tenant_id, model_id)`` as of the file's latest committed revision."""
        index = self._caught_up(db, tenant_id, model_id)
        if index.size == 0:  # no vectors of this model here: is it one a reindex retired?
            with db.read() as conn:
                active, target = conn.execute(READ_SPACE).fetchone()
            refuse_retired(VectorSpace(active, target), model_id, "this server embeds queries with")
        return index

    def _caught_up(self, db: Database, tenant_id: str, model_id: str) -> VectorIndex:
        with self._lock:
            entry = self._entries.setdefault((tenant_id, model_id), _Entry())
        with entry.lock, db.read() as conn:
            rev, floor = _revision(conn)
            if entry.index is None or entry.rev < floor:
                entry.index = VectorIndex()
                _catch_up(conn, entry.index, tenant_id, model_id, since=None)
            elif rev != entry.rev:
                _catch_up(conn, entry.index, tenant_id, model_id, since=entry.rev)
            entry.rev = rev
            return entry.index


def _revision(conn: sqlite3.Connection) -> tuple[int, int]:
    values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('rev', 'tombstone_floor')"))
    return int(values["rev"]), int(values["tombstone_floor"])


def _catch_up(
    conn: sqlite3.Connection, index: VectorIndex, tenant_id: str, model_id: str, since: int | None
) -> None:
    """Apply the tenant's memories changed after ``since`` (all when None), their chunks, and deletions.

    Rows are streamed in batches of :data:`LOAD_BATCH`: holding a full load's rows at once (a bytes object
    per vector, then their concatenation, then a float32 copy) tripled the matrix's size at its peak.
    """
    where = "m.tenant_id = ?"
    params: list[str | int] = [tenant_id]
    if since is not None:
        where += " AND m.rev > ?"
        params.append(since)
    known: set[int] = set()
    memories = conn.execute(_MEMORIES_SQL + where, params)
    while batch := memories.fetchmany(LOAD_BATCH):
        records = [_memory_record(row) for row in batch]
        known.update(record.rid for record in records if index.has_memory(record.rid))
        index.apply_memories(records)
    if since is None:
        index.reserve(conn.execute(_COUNT_SQL + where, [model_id, *params]).fetchone()[0])
    # No ORDER BY: sorting would spill every vector through a temporary b-tree. The plan walks the
    # tenant's memories by rev (then each one's chunks by rid), an order a reload reproduces.
    chunks = conn.execute(_CHUNKS_SQL + where, [model_id, *params])
    while rows := chunks.fetchmany(LOAD_BATCH):
        if known:  # changed memories already have their (immutable) chunks in the index
            rows = [row for row in rows if row[1] not in known]
        if rows:
            chunk_ids, memory_rids, blobs = zip(*rows, strict=True)
            vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
            index.apply_chunks(chunk_ids, memory_rids, vectors.astype(np.float32))
    if since is not None:
        sql = "SELECT memory_rid FROM tombstones WHERE tenant_id = ? AND rev > ?"
        index.apply_deletes(row[0] for row in conn.execute(sql, (tenant_id, since)))


LOAD_BATCH = 4096
"""Rows read per step of a catch-up."""

_MEMORIES_SQL = (
    "SELECT m.rid, m.id, m.space_id, m.user_id, m.session_id, m.kind, m.core,"
    " m.superseded_by IS NOT NULL AS superseded, m.metadata FROM memories m WHERE "
)
_JOIN_ORDER = """The joins to ``chunk_vectors`` are CROSS JOINs, which SQLite never reorders: given the
choice, its planner (no ANALYZE statistics) started from ``chunk_vectors_hash`` (model_id, vector_hash),
i.e. every vector link of the model in the file, and looked the chunks up from there — 21 ms to read
50 keyword hits' vectors and 77 ms to catch up after one write at 8k memories, growing with the file,
instead of 0.1 ms and ~0.1 ms from the chunks / the new memories (``docs/decisions/speed-targets.md``)."""
_COUNT_SQL = (
    "SELECT count(*) FROM memories m CROSS JOIN chunks c ON c.memory_rid = m.rid"
    " CROSS JOIN chunk_vectors cv ON cv.chunk_rid = c.rid AND cv.model_id = ? WHERE "
)
_CHUNKS_SQL = (
    "SELECT c.id, c.memory_rid, v.vector FROM memories m"
    " CROSS JOIN chunks c ON c.memory_rid = m.rid"
    " CROSS JOIN chunk_vectors cv ON cv.chunk_rid = c.rid AND cv.model_id = ?"
    " JOIN vectors v ON v.model_id = cv.model_id AND v.hash = cv.vector_hash WHERE "
)


def _memory_record(row: sqlite3.Row) -> MemoryRecord:
    rid, memory_id, space_id, user_id, session_id, kind, core, superseded, metadata = row
    return MemoryRecord(
        rid=rid,
        id=memory_id,
        space_id=space_id,
        user_id=user_id,
        session_id=session_id,
        kind=kind,
        core=bool(core),
        superseded=bool(superseded),
        metadata="{}" if metadata == "{}" else metadata,  # one shared empty object
    )
