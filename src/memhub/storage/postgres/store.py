"""PostgreSQL + pgvector: the store for when one machine is outgrown.

This class is the :class:`~memhub.core.ports.Store` face of the modules of this package, mirroring
``sqlite/store.py``: each method runs one function in one transaction (:meth:`Database.run`).

- ``db``: the psycopg 3 connection pool, transactions, retries, errors in the core's words;
- ``schema``: migrations (and the ``vector`` extension they need);
- ``dialect``: how the SQL shared with SQLite (``storage/sql/``) runs here;
- ``jobs`` / ``memories``: submitting, claiming and writing memories, PostgreSQL's way;
- ``scope``: metadata filters as SQL over ``jsonb``;
- ``keyword``: ``tsvector`` + GIN; ``vectors``: pgvector, exact or HNSW per query.

Any number of processes on any number of machines may share one database — API replicas
(``memhub serve --no-worker``) and workers (``memhub worker``): nothing is cached in a process, and
the job queue hands each job to one worker at a time (``FOR UPDATE SKIP LOCKED`` under leases).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from memhub.core.filters import Filter
from memhub.core.models import Chunk, Event, Job, Memory, Page, Scope
from memhub.core.ports import ChunkHit, ChunkToEmbed, JobOutcome, MemoryOrder, Vector, VectorSpace

from ..sql import vector_space
from ..sql.analysis import KeywordAnalyser
from ..sql.dialect import Connection
from ..sql.store import SqlStore, check_page_size
from . import jobs, memories, vectors
from .db import Conn, Database, connect, parse_postgres_url
from .dialect import POSTGRES
from .keyword import keyword_search
from .schema import migrate
from .vectors import link_chunk_vectors, retire_models, store_vectors

T = TypeVar("T")


class PostgresStore(SqlStore):
    """A :class:`~memhub.core.ports.Store` over one PostgreSQL database (schema: the role's search path)."""

    def __init__(self, url: str, analyser: KeywordAnalyser | None = None) -> None:
        self._analyser = analyser or KeywordAnalyser()
        conninfo, options = parse_postgres_url(url)
        with connect(conninfo) as conn:
            migrate(conn, self._analyser)
        self._db = Database(conninfo, options)

    @classmethod
    def from_url(cls, url: str, analyser: KeywordAnalyser | None = None) -> PostgresStore:
        return cls(url, analyser)

    @property
    def backend(self) -> str:
        return "postgresql"

    def close(self) -> None:
        self._db.close()

    _dialect = POSTGRES

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._db.run(work)

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._db.run(work)

    # --- ingestion --------------------------------------------------------------------------------
    def submit(self, job: Job, events: list[Event]) -> tuple[Job, bool]:
        return self._db.run(lambda conn: jobs.submit(conn, job, events))

    def submit_many(self, submissions: Sequence[tuple[Job, list[Event]]]) -> list[tuple[Job, bool]]:
        return self._db.run(lambda conn: [jobs.submit(conn, job, events) for job, events in submissions])

    # --- jobs -------------------------------------------------------------------------------------
    def claim_jobs(self, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        return self._db.run(lambda conn: jobs.claim_jobs(conn, owner, now, lease_until, limit))

    def complete_job(self, outcome: JobOutcome, owner: str, now: datetime) -> bool:
        return self._db.run(lambda conn: jobs.complete_job(conn, outcome, owner, now, self._analyser))

    # --- memories ---------------------------------------------------------------------------------
    def get_memory(self, tenant_id: str, memory_id: str) -> Memory:
        return self._db.run(lambda conn: memories.get_memory(conn, tenant_id, memory_id))

    def get_memories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]:
        return self._db.run(lambda conn: memories.get_memories(conn, tenant_id, memory_ids))

    def get_chunks(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        return self._db.run(lambda conn: memories.get_chunks(conn, tenant_id, chunk_ids))

    def sparse_keys(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
        return self._db.run(lambda conn: memories.sparse_keys(conn, tenant_id, chunk_ids))

    def memory_chunks(self, tenant_id: str, memory_id: str) -> list[Chunk]:
        return self._db.run(lambda conn: memories.memory_chunks(conn, tenant_id, memory_id))

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
        return self._db.run(
            lambda conn: memories.list_memories(conn, scope, flt, cursor, limit, newest_first, order_by)
        )

    def count_memories(self, scope: Scope, flt: Filter | None) -> int:
        return self._db.run(lambda conn: memories.count_memories(conn, scope, flt))

    def update_memory_metadata(
        self, tenant_id: str, memory_id: str, metadata: dict[str, object], now: datetime
    ) -> Memory:
        return self._db.run(lambda conn: memories.update_metadata(conn, tenant_id, memory_id, metadata, now))

    def check_ready(self) -> None:
        self._db.ping()

    # --- vectors and search -----------------------------------------------------------------------
    def get_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
        return self._db.run(lambda conn: vectors.fetch_vectors(conn, model_id, hashes))

    def chunk_vectors(
        self, model_id: str, chunk_ids: Sequence[str], tenant_id: str | None = None
    ) -> dict[str, Vector]:
        return self._db.run(lambda conn: vectors.fetch_chunk_vectors(conn, model_id, chunk_ids))

    # --- switching the embedding model ------------------------------------------------------------
    def vector_space(self) -> VectorSpace:
        return self._db.run(lambda conn: vector_space.read_space(POSTGRES, conn))

    def begin_reindex(self, active: str | None, target: str) -> None:
        self._db.run(lambda conn: vector_space.begin(POSTGRES, conn, active, target))

    def reindex_progress(self, model_id: str) -> tuple[int, int]:
        return self._db.run(lambda conn: vector_space.progress(POSTGRES, conn, model_id))

    def chunks_to_embed(self, model_id: str, after: int, limit: int) -> list[ChunkToEmbed]:
        return self._db.run(lambda conn: vector_space.chunks_to_embed(POSTGRES, conn, model_id, after, limit))

    def add_chunk_vectors(
        self, model_id: str, vectors: Mapping[str, Vector], links: Sequence[tuple[int, str]]
    ) -> None:
        def work(conn: Conn) -> None:
            store_vectors(conn, model_id, vectors)
            link_chunk_vectors(conn, model_id, links)

        self._db.run(work)

    def finish_reindex(self, model_id: str) -> int:
        def work(conn: Conn) -> int:
            missing = vector_space.switch(POSTGRES, conn, model_id)
            if not missing:
                retire_models(conn, model_id)
            return missing

        return self._db.run(work)

    def keyword_search(self, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
        return self._db.run(lambda conn: keyword_search(conn, scope, flt, self._analyser.terms(text), limit))

    def vector_search(
        self, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        return self._db.run(lambda conn: vectors.vector_search(conn, scope, flt, model_id, vector, limit))
