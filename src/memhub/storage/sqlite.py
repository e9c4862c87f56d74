"""The embedded store: everything in one SQLite file, no server and no extension to load.

This class is the :class:`~memhub.core.ports.Store` face of the ``sqlite_*`` modules: each method opens
the right kind of transaction and hands its connection to one function that does the work.

- ``sqlite_db``: connections (one writer behind a lock, one reader per thread), WAL, durability choice;
- ``sqlite_schema``: migrations, and the triggers that keep FTS rows, revisions and tombstones;
- ``sqlite_tenancy`` / ``sqlite_users`` / ``sqlite_jobs`` / ``sqlite_memories``: the rows;
- ``sqlite_keyword``: FTS5 + BM25; ``sqlite_vectors`` + ``vector_index`` + ``vector_matrix``: exact
  vector search over an in-memory index that follows writes made by other processes.

The file may be shared by several processes (the server, a separate worker, the CLI): every write is
a ``BEGIN IMMEDIATE`` transaction, every read sees one snapshot, and the vector index catches up from
the file itself, not from anything this process remembers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from memhub.core.errors import InvalidInput
from memhub.core.filters import Filter
from memhub.core.models import (
    ApiKey,
    Blob,
    Chunk,
    Counts,
    Event,
    EventKind,
    Job,
    Memory,
    Page,
    Record,
    Scope,
    Session,
    Space,
    Tenant,
    User,
)
from memhub.core.ports import ChunkHit, JobOutcome, MemoryOrder, Vector

from . import sqlite_blobs as blobs
from . import sqlite_jobs as jobs
from . import sqlite_memories as memories
from . import sqlite_records as records
from . import sqlite_tenancy as tenancy
from . import sqlite_users as users
from .private import private_file
from .sqlite_db import Database, DbOptions, parse_sqlite_url
from .sqlite_keyword import keyword_search
from .sqlite_schema import migrate
from .sqlite_vectors import VectorIndexes, fetch_chunk_vectors, fetch_vectors


class SqliteStore:
    """A :class:`~memhub.core.ports.Store` over one SQLite file."""

    def __init__(self, path: Path, options: DbOptions | None = None) -> None:
        private_file(path)  # 0600 before SQLite creates it: its -wal and -shm take the same mode
        self._db = Database(path, options or DbOptions())
        with self._db.writer() as conn:
            migrate(conn)
        self._indexes = VectorIndexes()

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        path, options = parse_sqlite_url(url)
        return cls(path, options)

    @property
    def backend(self) -> str:
        return "sqlite"

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    # --- tenants and keys -------------------------------------------------------------------------
    def ensure_tenant(self, name: str, now: datetime) -> Tenant:
        with self._db.write() as conn:
            return tenancy.ensure_tenant(conn, name, now)

    def get_tenant(self, tenant_id: str) -> Tenant:
        with self._db.read() as conn:
            return tenancy.get_tenant(conn, tenant_id)

    def find_tenant(self, name: str) -> Tenant | None:
        with self._db.read() as conn:
            return tenancy.find_tenant(conn, name)

    def list_tenants(self) -> list[Tenant]:
        with self._db.read() as conn:
            return tenancy.list_tenants(conn)

    def add_api_key(self, key: ApiKey) -> None:
        with self._db.write() as conn:
            tenancy.add_api_key(conn, key)

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        with self._db.read() as conn:
            return tenancy.find_api_key(conn, key_hash)

    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        with self._db.read() as conn:
            return tenancy.list_api_keys(conn, tenant_id)

    def revoke_api_key(self, key_id: str, now: datetime) -> ApiKey:
        with self._db.write() as conn:
            return tenancy.revoke_api_key(conn, key_id, now)

    # --- spaces -----------------------------------------------------------------------------------
    def create_space(self, space: Space) -> Space:
        with self._db.write() as conn:
            return tenancy.create_space(conn, space)

    def get_space(self, tenant_id: str, space_id: str) -> Space:
        with self._db.read() as conn:
            return tenancy.get_space(conn, tenant_id, space_id)

    def find_space(self, tenant_id: str, name: str) -> Space | None:
        with self._db.read() as conn:
            return tenancy.find_space(conn, tenant_id, name)

    def list_spaces(self, tenant_id: str) -> list[Space]:
        with self._db.read() as conn:
            return tenancy.list_spaces(conn, tenant_id)

    def delete_space(self, tenant_id: str, space_id: str) -> None:
        with self._db.write() as conn:
            tenancy.delete_space(conn, tenant_id, space_id)

    def update_space(self, space: Space) -> Space:
        with self._db.write() as conn:
            return tenancy.update_space(conn, space)

    # --- users and sessions -----------------------------------------------------------------------
    def get_user(self, tenant_id: str, user_id: str) -> User:
        with self._db.read() as conn:
            return users.get_user(conn, tenant_id, user_id)

    def list_users(self, tenant_id: str, cursor: str | None, limit: int) -> Page:
        _check_page_size(limit)
        with self._db.read() as conn:
            return users.list_users(conn, tenant_id, cursor, limit)

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        with self._db.write() as conn:
            return users.delete_user(conn, tenant_id, user_id)

    def delete_session(self, tenant_id: str, session_id: str) -> int:
        with self._db.write() as conn:
            return users.delete_session(conn, tenant_id, session_id)

    def create_session(self, session: Session) -> Session:
        with self._db.write() as conn:
            return users.create_session(conn, session)

    def get_session(self, tenant_id: str, session_id: str) -> Session:
        with self._db.read() as conn:
            return users.get_session(conn, tenant_id, session_id)

    def list_sessions(self, tenant_id: str, user_id: str | None, cursor: str | None, limit: int) -> Page:
        _check_page_size(limit)
        with self._db.read() as conn:
            return users.list_sessions(conn, tenant_id, user_id, cursor, limit)

    # --- ingestion --------------------------------------------------------------------------------
    def submit(self, job: Job, events: list[Event]) -> tuple[Job, bool]:
        with self._db.write() as conn:
            return jobs.submit(conn, job, events)

    def submit_many(self, submissions: Sequence[tuple[Job, list[Event]]]) -> list[tuple[Job, bool]]:
        with self._db.write() as conn:
            return [jobs.submit(conn, job, events) for job, events in submissions]

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
        _check_page_size(limit)
        with self._db.read() as conn:
            return jobs.list_events(conn, tenant_id, user_id, session_id, kinds, cursor, limit)

    def job_events(self, job_id: str) -> list[Event]:
        with self._db.read() as conn:
            return jobs.job_events(conn, job_id)

    # --- jobs -------------------------------------------------------------------------------------
    def get_job(self, tenant_id: str, job_id: str) -> Job:
        with self._db.read() as conn:
            return jobs.get_job(conn, tenant_id, job_id)

    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        with self._db.read() as conn:
            return jobs.get_jobs(conn, tenant_id, job_ids)

    def claim_jobs(self, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._db.write() as conn:
            return jobs.claim_jobs(conn, owner, now, lease_until, limit)

    def complete_job(self, outcome: JobOutcome, owner: str, now: datetime) -> bool:
        with self._db.write() as conn:
            return jobs.complete_job(conn, outcome, owner, now)

    def fail_job(self, job_id: str, owner: str, error: str, now: datetime, *, retry: bool) -> None:
        with self._db.write() as conn:
            jobs.fail_job(conn, job_id, owner, error, now, retry)

    def release_jobs(self, owner: str) -> int:
        with self._db.write() as conn:
            return jobs.release_jobs(conn, owner)

    def renew_leases(self, owner: str, job_ids: Sequence[str], lease_until: datetime) -> list[str]:
        if not job_ids:
            return []
        with self._db.write() as conn:
            return jobs.renew_leases(conn, owner, job_ids, lease_until)

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
        _check_page_size(limit)
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

    def delete_memory(self, tenant_id: str, memory_id: str) -> None:
        with self._db.write() as conn:
            memories.delete_memory(conn, tenant_id, memory_id)

    def counts(self, tenant_id: str | None = None) -> Counts:
        with self._db.read() as conn:
            return tenancy.counts(conn, tenant_id)

    # --- records --------------------------------------------------------------------------------
    def add_record(self, record: Record) -> Record:
        with self._db.write() as conn:
            return records.add_record(conn, record)

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record:
        with self._db.read() as conn:
            return records.get_record(conn, tenant_id, collection, record_id)

    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        with self._db.read() as conn:
            return records.list_records(conn, tenant_id, collection)

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
        with self._db.read() as conn:
            return records.page_records(conn, tenant_id, collection, where, cursor, limit, newest_first)

    def update_record(self, record: Record) -> Record:
        with self._db.write() as conn:
            return records.update_record(conn, record)

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None:
        with self._db.write() as conn:
            records.delete_record(conn, tenant_id, collection, record_id)

    # --- blobs ----------------------------------------------------------------------------------
    def put_blob(self, blob: Blob) -> Blob:
        with self._db.write() as conn:
            return blobs.put_blob(conn, blob)

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob:
        with self._db.read() as conn:
            return blobs.get_blob(conn, tenant_id, owner_id, name)

    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        with self._db.read() as conn:
            return blobs.list_blobs(conn, tenant_id, owner_id)

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        with self._db.write() as conn:
            return blobs.delete_blobs(conn, tenant_id, owner_id)

    # --- vectors and search -----------------------------------------------------------------------
    def get_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
        with self._db.read() as conn:
            return fetch_vectors(conn, model_id, hashes)

    def chunk_vectors(self, model_id: str, chunk_ids: Sequence[str]) -> dict[str, Vector]:
        with self._db.read() as conn:
            return fetch_chunk_vectors(conn, model_id, chunk_ids)

    def keyword_search(self, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
        with self._db.read() as conn:
            return keyword_search(conn, scope, flt, text, limit)

    def vector_search(
        self, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        return self._indexes.search(self._db, scope, flt, model_id, vector, limit)


def _check_page_size(limit: int) -> None:
    if limit < 1:
        raise InvalidInput(f"page size must be at least 1, got {limit}")
