"""The :class:`~memhub.core.ports.Store` operations whose SQL both stores share, written once.

A store subclasses :class:`SqlStore`, names its :class:`~.dialect.Dialect` and says how it runs work in a
read or a write transaction; every method here is then one transaction around one shared function.
What differs per store (connections, schema, vectors, keyword search, bulk writes) stays in the
store's own package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from memhub.core.errors import InvalidInput
from memhub.core.models import (
    ApiKey,
    Blob,
    Counts,
    Event,
    EventKind,
    Job,
    Page,
    Record,
    Session,
    Space,
    Tenant,
    User,
)

from . import blobs, jobs, records, tenancy, users
from .dialect import Connection, Dialect

T = TypeVar("T")


class SqlStore(ABC):
    """The shared half of a SQL store; see the module docstring."""

    _dialect: Dialect

    @abstractmethod
    def _read(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in a read transaction (one snapshot)."""

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in a write transaction, committed when it returns."""

    # --- tenants and keys -------------------------------------------------------------------------
    def ensure_tenant(self, name: str, now: datetime) -> Tenant:
        return self._write(lambda conn: tenancy.ensure_tenant(self._dialect, conn, name, now))

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._read(lambda conn: tenancy.get_tenant(self._dialect, conn, tenant_id))

    def find_tenant(self, name: str) -> Tenant | None:
        return self._read(lambda conn: tenancy.find_tenant(self._dialect, conn, name))

    def list_tenants(self) -> list[Tenant]:
        return self._read(lambda conn: tenancy.list_tenants(self._dialect, conn))

    def add_api_key(self, key: ApiKey) -> None:
        self._write(lambda conn: tenancy.add_api_key(self._dialect, conn, key))

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        return self._read(lambda conn: tenancy.find_api_key(self._dialect, conn, key_hash))

    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        return self._read(lambda conn: tenancy.list_api_keys(self._dialect, conn, tenant_id))

    def revoke_api_key(self, key_id: str, now: datetime) -> ApiKey:
        return self._write(lambda conn: tenancy.revoke_api_key(self._dialect, conn, key_id, now))

    # --- spaces -----------------------------------------------------------------------------------
    def create_space(self, space: Space) -> Space:
        return self._write(lambda conn: tenancy.create_space(self._dialect, conn, space))

    def get_space(self, tenant_id: str, space_id: str) -> Space:
        return self._read(lambda conn: tenancy.get_space(self._dialect, conn, tenant_id, space_id))

    def find_space(self, tenant_id: str, name: str) -> Space | None:
        return self._read(lambda conn: tenancy.find_space(self._dialect, conn, tenant_id, name))

    def list_spaces(self, tenant_id: str) -> list[Space]:
        return self._read(lambda conn: tenancy.list_spaces(self._dialect, conn, tenant_id))

    def delete_space(self, tenant_id: str, space_id: str) -> None:
        self._write(lambda conn: tenancy.delete_space(self._dialect, conn, tenant_id, space_id))
        self._after_forget()

    def update_space(self, space: Space) -> Space:
        return self._write(lambda conn: tenancy.update_space(self._dialect, conn, space))

    # --- users and sessions -----------------------------------------------------------------------
    def get_user(self, tenant_id: str, user_id: str) -> User:
        return self._read(lambda conn: users.get_user(self._dialect, conn, tenant_id, user_id))

    def list_users(self, tenant_id: str, cursor: str | None, limit: int) -> Page:
        check_page_size(limit)
        return self._read(lambda conn: users.list_users(self._dialect, conn, tenant_id, cursor, limit))

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        deleted = self._write(lambda conn: users.delete_user(self._dialect, conn, tenant_id, user_id))
        self._after_forget()
        return deleted

    def delete_session(self, tenant_id: str, session_id: str) -> int:
        deleted = self._write(lambda conn: users.delete_session(self._dialect, conn, tenant_id, session_id))
        self._after_forget()
        return deleted

    def check_ready(self) -> None:
        self._read(lambda conn: conn.execute(self._dialect.sql("SELECT 1 FROM tenants LIMIT 1")).fetchall())

    def delete_memory(self, tenant_id: str, memory_id: str) -> None:
        self._write(lambda conn: users.delete_memory(self._dialect, conn, tenant_id, memory_id))
        self._after_forget()

    def _after_forget(self) -> None:  # noqa: B027 -- a hook only SQLite needs
        """Run once a deletion has committed, outside any transaction (SQLite: checkpoint the WAL)."""

    def create_session(self, session: Session) -> Session:
        return self._write(lambda conn: users.create_session(self._dialect, conn, session))

    def get_session(self, tenant_id: str, session_id: str) -> Session:
        return self._read(lambda conn: users.get_session(self._dialect, conn, tenant_id, session_id))

    def list_sessions(self, tenant_id: str, user_id: str | None, cursor: str | None, limit: int) -> Page:
        check_page_size(limit)
        return self._read(
            lambda conn: users.list_sessions(self._dialect, conn, tenant_id, user_id, cursor, limit)
        )

    # --- events and jobs --------------------------------------------------------------------------
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
        return self._read(
            lambda conn: jobs.list_events(
                self._dialect, conn, tenant_id, user_id, session_id, kinds, cursor, limit
            )
        )

    def job_events(self, job_id: str) -> list[Event]:
        return self._read(lambda conn: jobs.job_events(self._dialect, conn, job_id))

    def get_job(self, tenant_id: str, job_id: str) -> Job:
        return self._read(lambda conn: jobs.get_job(self._dialect, conn, tenant_id, job_id))

    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        return self._read(lambda conn: jobs.get_jobs(self._dialect, conn, tenant_id, job_ids))

    def fail_job(self, job_id: str, owner: str, error: str, now: datetime, *, retry: bool) -> None:
        self._write(lambda conn: jobs.fail_job(self._dialect, conn, job_id, owner, error, now, retry))

    def release_jobs(self, owner: str) -> int:
        return self._write(lambda conn: jobs.release_jobs(self._dialect, conn, owner))

    def renew_leases(self, owner: str, job_ids: Sequence[str], lease_until: datetime) -> list[str]:
        if not job_ids:
            return []
        return self._write(lambda conn: jobs.renew_leases(self._dialect, conn, owner, job_ids, lease_until))

    # --- records ----------------------------------------------------------------------------------
    def add_record(self, record: Record) -> Record:
        return self._write(lambda conn: records.add_record(self._dialect, conn, record))

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record:
        return self._read(
            lambda conn: records.get_record(self._dialect, conn, tenant_id, collection, record_id)
        )

    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        return self._read(lambda conn: records.list_records(self._dialect, conn, tenant_id, collection))

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
        return self._read(
            lambda conn: records.page_records(
                self._dialect, conn, tenant_id, collection, where, cursor, limit, newest_first
            )
        )

    def update_record(self, record: Record) -> Record:
        return self._write(lambda conn: records.update_record(self._dialect, conn, record))

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None:
        self._write(lambda conn: records.delete_record(self._dialect, conn, tenant_id, collection, record_id))

    # --- blobs ------------------------------------------------------------------------------------
    def put_blob(self, blob: Blob) -> Blob:
        return self._write(lambda conn: blobs.put_blob(self._dialect, conn, blob))

    def vector_models(self) -> list[str]:
        return self._read(vector_models)

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob:
        return self._read(lambda conn: blobs.get_blob(self._dialect, conn, tenant_id, owner_id, name))

    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        return self._read(lambda conn: blobs.list_blobs(self._dialect, conn, tenant_id, owner_id))

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        return self._write(lambda conn: blobs.delete_blobs(self._dialect, conn, tenant_id, owner_id))

    # --- counts -----------------------------------------------------------------------------------
    def counts(self, tenant_id: str | None = None) -> Counts:
        return self._read(lambda conn: tenancy.counts(self._dialect, conn, tenant_id))


def check_page_size(limit: int) -> None:
    if limit < 1:
        raise InvalidInput(f"page size must be at least 1, got {limit}")


# Distinct model ids by skipping along the (model_id, hash) primary key of ``vectors``: one index probe per
# model instead of a scan of every vector (both SQLite and PostgreSQL plan MIN over a key prefix that way).
_VECTOR_MODELS = """
WITH RECURSIVE models(model_id) AS (
    SELECT MIN(model_id) FROM vectors
    UNION ALL
    SELECT (SELECT MIN(v.model_id) FROM vectors v WHERE v.model_id > models.model_id)
    FROM models WHERE models.model_id IS NOT NULL
)
SELECT model_id FROM models WHERE model_id IS NOT NULL ORDER BY model_id"""


def vector_models(conn: Connection) -> list[str]:
    return [str(row["model_id"]) for row in conn.execute(_VECTOR_MODELS).fetchall()]
