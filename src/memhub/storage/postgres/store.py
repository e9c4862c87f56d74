"""PostgreSQL + pgvector: the store for when one machine is outgrown.

This class is the :class:`~memhub.core.ports.Store` face of the modules of this package, mirroring
``sqlite/store.py``: each method runs one function in one transaction (:meth:`Database.run`).

- ``db``: the psycopg 3 connection pool, transactions, retries, errors in the core's words;
- ``schema``: migrations (and the ``vector`` extension they need);
- ``tenancy`` / ``users`` / ``jobs`` / ``memories`` / ``records`` / ``blobs``: the rows;
- ``scope``: scopes and metadata filters as SQL over ``jsonb``;
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
from memhub.core.models import (
    ApiKey,
    Blob,
    Chunk,
    Event,
    EventKind,
    Job,
    Memory,
    Page,
    Record,
    Scope,
    Session,
    Space,
)
from memhub.core.ports import ChunkHit, JobOutcome, MemoryOrder, Vector

from ..sql.dialect import Connection
from ..sql.store import SqlStore, check_page_size
from . import blobs, jobs, memories, records, tenancy, users, vectors
from .db import Database, connect, parse_postgres_url
from .dialect import POSTGRES
from .keyword import keyword_search
from .schema import migrate

T = TypeVar("T")


class PostgresStore(SqlStore):
    """A :class:`~memhub.core.ports.Store` over one PostgreSQL database (schema: the role's search path)."""

    def __init__(self, url: str) -> None:
        conninfo, options = parse_postgres_url(url)
        with connect(conninfo) as conn:
            migrate(conn)
        self._db = Database(conninfo, options)

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        return cls(url)

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

    # --- tenants and keys -------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        self._db.run(lambda conn: tenancy.add_api_key(conn, key))

    # --- spaces -----------------------------------------------------------------------------------
    def create_space(self, space: Space) -> Space:
        return self._db.run(lambda conn: tenancy.create_space(conn, space))

    # --- users and sessions -----------------------------------------------------------------------
    def create_session(self, session: Session) -> Session:
        return self._db.run(lambda conn: users.create_session(conn, session))

    # --- ingestion --------------------------------------------------------------------------------
    def submit(self, job: Job, events: list[Event]) -> tuple[Job, bool]:
        return self._db.run(lambda conn: jobs.submit(conn, job, events))

    def submit_many(self, submissions: Sequence[tuple[Job, list[Event]]]) -> list[tuple[Job, bool]]:
        return self._db.run(lambda conn: [jobs.submit(conn, job, events) for job, events in submissions])

    def list_events(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        kinds: list[EventKind] | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        check_page_size(limit)
        return self._db.run(
            lambda conn: jobs.list_events(conn, tenant_id, user_id, session_id, kinds, cursor, limit)
        )

    def job_events(self, job_id: str) -> list[Event]:
        return self._db.run(lambda conn: jobs.job_events(conn, job_id))

    # --- jobs -------------------------------------------------------------------------------------
    def get_job(self, tenant_id: str, job_id: str) -> Job:
        return self._db.run(lambda conn: jobs.get_job(conn, tenant_id, job_id))

    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        return self._db.run(lambda conn: jobs.get_jobs(conn, tenant_id, job_ids))

    def claim_jobs(self, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        return self._db.run(lambda conn: jobs.claim_jobs(conn, owner, now, lease_until, limit))

    def complete_job(self, outcome: JobOutcome, owner: str, now: datetime) -> bool:
        return self._db.run(lambda conn: jobs.complete_job(conn, outcome, owner, now))

    def fail_job(self, job_id: str, owner: str, error: str, now: datetime, *, retry: bool) -> None:
        self._db.run(lambda conn: jobs.fail_job(conn, job_id, owner, error, now, retry))

    def release_jobs(self, owner: str) -> int:
        return self._db.run(lambda conn: jobs.release_jobs(conn, owner))

    def renew_leases(self, owner: str, job_ids: Sequence[str], lease_until: datetime) -> list[str]:
        if not job_ids:
            return []
        return self._db.run(lambda conn: jobs.renew_leases(conn, owner, job_ids, lease_until))

    # --- memories ---------------------------------------------------------------------------------
    def get_memory(self, tenant_id: str, memory_id: str) -> Memory:
        return self._db.run(lambda conn: memories.get_memory(conn, tenant_id, memory_id))

    def get_memories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]:
        return self._db.run(lambda conn: memories.get_memories(conn, tenant_id, memory_ids))

    def get_chunks(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        return self._db.run(lambda conn: memories.get_chunks(conn, tenant_id, chunk_ids))

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

    def delete_memory(self, tenant_id: str, memory_id: str) -> None:
        self._db.run(lambda conn: memories.delete_memory(conn, tenant_id, memory_id))

    # --- records --------------------------------------------------------------------------------
    def add_record(self, record: Record) -> Record:
        return self._db.run(lambda conn: records.add_record(conn, record))

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record:
        return self._db.run(lambda conn: records.get_record(conn, tenant_id, collection, record_id))

    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        return self._db.run(lambda conn: records.list_records(conn, tenant_id, collection))

    def page_records(
        self,
        tenant_id: str,
        collection: str,
        *,
        where: Mapping[str, str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page:
        return self._db.run(
            lambda conn: records.page_records(conn, tenant_id, collection, where, cursor, limit, newest_first)
        )

    def update_record(self, record: Record) -> Record:
        return self._db.run(lambda conn: records.update_record(conn, record))

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None:
        self._db.run(lambda conn: records.delete_record(conn, tenant_id, collection, record_id))

    # --- blobs ----------------------------------------------------------------------------------
    def put_blob(self, blob: Blob) -> Blob:
        return self._db.run(lambda conn: blobs.put_blob(conn, blob))

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob:
        return self._db.run(lambda conn: blobs.get_blob(conn, tenant_id, owner_id, name))

    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        return self._db.run(lambda conn: blobs.list_blobs(conn, tenant_id, owner_id))

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        return self._db.run(lambda conn: blobs.delete_blobs(conn, tenant_id, owner_id))

    # --- vectors and search -----------------------------------------------------------------------
    def get_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
        return self._db.run(lambda conn: vectors.fetch_vectors(conn, model_id, hashes))

    def chunk_vectors(self, model_id: str, chunk_ids: Sequence[str]) -> dict[str, Vector]:
        return self._db.run(lambda conn: vectors.fetch_chunk_vectors(conn, model_id, chunk_ids))

    def keyword_search(self, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
        return self._db.run(lambda conn: keyword_search(conn, scope, flt, text, limit))

    def vector_search(
        self, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        return self._db.run(lambda conn: vectors.vector_search(conn, scope, flt, model_id, vector, limit))
