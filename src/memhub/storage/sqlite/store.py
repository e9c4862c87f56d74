"""The embedded store: everything in one SQLite file, no server and no extension to load.

This class is the :class:`~memhub.core.ports.Store` face of this package; the operations whose SQL both
stores share come from :class:`~memhub.storage.sql.store.SqlStore`. Each method opens the right kind of
transaction and hands its connection to one function that does the work.

- ``db``: connections (one writer behind a lock, one reader per thread), WAL, durability choice;
- ``schema``: migrations, and the triggers that keep FTS rows, revisions and tombstones;
- ``dialect``: how the SQL shared with PostgreSQL (``storage/sql/``) runs here;
- ``jobs`` / ``memories``: submitting, claiming and writing memories, SQLite's way;
- ``keyword`` + ``fts``: FTS5 + BM25; ``vectors`` + ``vector_index`` + ``vector_matrix``: exact
  vector search over an in-memory index that follows writes made by other processes.

The file may be shared by several processes (the server, a separate worker, the CLI): every write is
a ``BEGIN IMMEDIATE`` transaction, every read sees one snapshot, and the vector index catches up from
the file itself, not from anything this process remembers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from memhub.core.filters import Filter
from memhub.core.models import Chunk, Event, Job, Memory, Page, Scope
from memhub.core.ports import ChunkHit, ChunkToEmbed, JobOutcome, MemoryOrder, Vector, VectorSpace

from ..private import private_file
from ..sql import vector_space
from ..sql.analysis import KeywordAnalyser
from ..sql.dialect import Connection
from ..sql.store import SqlStore, check_page_size
from . import jobs, memories
from .db import Database, DbOptions, parse_sqlite_url, store_errors
from .dialect import SQLITE
from .keyword import keyword_search
from .schema import migrate
from .vectors import (
    VectorIndexes,
    fetch_chunk_vectors,
    fetch_vectors,
    link_chunk_vectors,
    retire_models,
    store_vectors,
)

T = TypeVar("T")


class SqliteStore(SqlStore):
    """A :class:`~memhub.core.ports.Store` over one SQLite file."""

    def __init__(
        self, path: Path, options: DbOptions | None = None, analyser: KeywordAnalyser | None = None
    ) -> None:
        self._analyser = analyser or KeywordAnalyser()
        with store_errors():
            private_file(path)  # 0600 before SQLite creates it: its -wal and -shm take the same mode
            self._db = Database(path, options or DbOptions())
            with self._db.writer() as conn:
                migrate(conn, self._analyser)
        self._indexes = VectorIndexes()

    @classmethod
    def from_url(cls, url: str, analyser: KeywordAnalyser | None = None) -> SqliteStore:
        path, options = parse_sqlite_url(url)
        return cls(path, options, analyser)

    @property
    def backend(self) -> str:
        return "sqlite"

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    _dialect = SQLITE

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._db.read() as conn:
            return work(conn)

    def _write(self, work: Callable[[Connection], T]) -> T:
        with self._db.write() as conn:
            return work(conn)

    # --- ingestion --------------------------------------------------------------------------------
    def submit(self, job: Job, events: list[Event]) -> tuple[Job, bool]:
        with self._db.write() as conn:
            return jobs.submit(conn, job, events)

    def submit_many(self, submissions: Sequence[tuple[Job, list[Event]]]) -> list[tuple[Job, bool]]:
        with self._db.write() as conn:
            return [jobs.submit(conn, job, events) for job, events in submissions]

    # --- jobs -------------------------------------------------------------------------------------
    def claim_jobs(self, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._db.write() as conn:
            return jobs.claim_jobs(conn, owner, now, lease_until, limit)

    def complete_job(self, outcome: JobOutcome, owner: str, now: datetime) -> bool:
        with self._db.write() as conn:
            return jobs.complete_job(conn, outcome, owner, now, self._analyser)

    # --- memories ---------------------------------------------------------------------------------
    def get_memory(self, tenant_id: str, memory_id: str) -> Memory:
        with self._db.read() as conn:
            return memories.get_memory(conn, tenant_id, memory_id)

    def get_memories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]:
        with self._db.read() as conn:
            return memories.get_memories(conn, tenant_id, memory_ids)

    def get_chunks(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        with self._db.read() as conn:
            return memories.get_chunks(conn, tenant_id, chunk_ids)

    def sparse_keys(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
        with self._db.read() as conn:
            return memories.sparse_keys(conn, tenant_id, chunk_ids)

    def memory_chunks(self, tenant_id: str, memory_id: str) -> list[Chunk]:
        with self._db.read() as conn:
            return memories.memory_chunks(conn, tenant_id, memory_id)

    def list_memories(
        self,
        scope: Scope,
        flt: Filter | None,
        cursor: str | None,
        limit: int,
        newest_first: bool = True,
        order_by: MemoryOrder = "created_at",
    ) -> Page:
        check_page_size(limit)
        with self._db.read() as conn:
            return memories.list_memories(conn, scope, flt, cursor, limit, newest_first, order_by)

    def count_memories(self, scope: Scope, flt: Filter | None) -> int:
        with self._db.read() as conn:
            return memories.count_memories(conn, scope, flt)

    def update_memory_metadata(
        self, tenant_id: str, memory_id: str, metadata: dict[str, object], now: datetime
    ) -> Memory:
        with self._db.write() as conn:
            return memories.update_metadata(conn, tenant_id, memory_id, metadata, now)

    def _after_forget(self) -> None:
        self._db.checkpoint()

    def check_ready(self) -> None:
        self._db.check_ready()

    # --- vectors and search -----------------------------------------------------------------------
    def get_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
        with self._db.read() as conn:
            return fetch_vectors(conn, model_id, hashes)

    def chunk_vectors(
        self, model_id: str, chunk_ids: Sequence[str], tenant_id: str | None = None
    ) -> dict[str, Vector]:
        # The tenant's in-memory index holds the same float32 bytes as the file: reading ~600 keyword
        # hits' vectors from it instead of SQLite saves ~1 ms a search. The file answers for the rest
        # (chunks not embedded yet, or written since the index caught up).
        found = {} if tenant_id is None else self._indexes.vectors(self._db, tenant_id, model_id, chunk_ids)
        missing = [chunk_id for chunk_id in chunk_ids if chunk_id not in found]
        if missing:
            with self._db.read() as conn:
                found.update(fetch_chunk_vectors(conn, model_id, missing))
        return found

    # --- switching the embedding model ------------------------------------------------------------
    def vector_space(self) -> VectorSpace:
        with self._db.read() as conn:
            return vector_space.read_space(SQLITE, conn)

    def begin_reindex(self, active: str | None, target: str) -> None:
        with self._db.write() as conn:
            vector_space.begin(SQLITE, conn, active, target)

    def reindex_progress(self, model_id: str) -> tuple[int, int]:
        with self._db.read() as conn:
            return vector_space.progress(SQLITE, conn, model_id)

    def chunks_to_embed(self, model_id: str, after: int, limit: int) -> list[ChunkToEmbed]:
        with self._db.read() as conn:
            return vector_space.chunks_to_embed(SQLITE, conn, model_id, after, limit)

    def add_chunk_vectors(
        self, model_id: str, vectors: Mapping[str, Vector], links: Sequence[tuple[int, str]]
    ) -> None:
        with self._db.write() as conn:
            store_vectors(conn, model_id, vectors)
            link_chunk_vectors(conn, model_id, links)

    def finish_reindex(self, model_id: str) -> int:
        with self._db.write() as conn:
            missing = vector_space.switch(SQLITE, conn, model_id)
            if not missing:
                retire_models(conn)
        if not missing:
            self._db.checkpoint()  # the old vectors' pages leave the WAL too (forget-on-disk.md)
        return missing

    def keyword_search(self, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
        with self._db.read() as conn:
            return keyword_search(conn, scope, flt, self._analyser.terms(text), limit)

    def vector_search(
        self, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        return self._indexes.search(self._db, scope, flt, model_id, vector, limit)
