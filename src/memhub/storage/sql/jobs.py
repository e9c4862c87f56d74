"""Event listings and the job queue's reads and lease bookkeeping: one SQL text for both stores.

A job is finished or failed only while the caller still holds its lease: a worker that stalled past its
lease and lost the job to another cannot overwrite that one's work. ``attempts`` counts leases granted,
minus those given back by ``release_jobs`` (a graceful shutdown is not a failed attempt). Submitting and
claiming differ per store (SQLite's single writer; PostgreSQL's ``SKIP LOCKED`` and binary ``COPY``) and
live in each store's ``jobs.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from memhub.core.errors import InvalidInput, NotFound
from memhub.core.models import Event, EventKind, Job, JobStatus, Page

from .codec import encode_time
from .columns import EVENT_COLUMNS, JOB_COLUMNS
from .cursors import decode_cursor, encode_cursor
from .dialect import Connection, Dialect
from .tenancy import get_space
from .users import ensure_people

_BATCH = 500
"""Ids per statement where a list is spelled out (well under SQLite's bound-parameter limit)."""


# --- submissions ------------------------------------------------------------------------------------
def check_submission(d: Dialect, conn: Connection, job: Job, events: list[Event]) -> None:
    """Before a new submission is stored: its events are the job's, its spaces the tenant's (else
    InvalidInput / NotFound), and the users and sessions it names exist."""
    for event in events:
        if event.tenant_id != job.tenant_id or event.job_id != job.id:
            raise InvalidInput(f"event {event.id} does not belong to job {job.id} of tenant {job.tenant_id}")
    for space_id in {job.space_id, *(event.space_id for event in events)}:
        get_space(d, conn, job.tenant_id, space_id)  # NotFound unless it is the tenant's
    ensure_people(d, conn, job, events)


# --- events -----------------------------------------------------------------------------------------
def list_events(
    d: Dialect,
    conn: Connection,
    tenant_id: str,
    user_id: str | None,
    session_id: str | None,
    kinds: list[EventKind] | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Events oldest first: by ``occurred_at``, then the order they were stored in."""
    after = decode_cursor("events", cursor, 2)
    where: list[str] = ["tenant_id = ?"]
    params: list[Any] = [tenant_id]
    for column, value in (("user_id", user_id), ("session_id", session_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if kinds is not None:
        among, values = d.any_of("kind", [kind.value for kind in kinds])
        where.append(among)
        params.extend(values)
    if after is not None:
        where.append(f"(occurred_at, seq) > ({d.cursor_time}, ?)")
        params.extend(after)
    conditions = " AND ".join(where)
    statement = (
        f"SELECT seq, {EVENT_COLUMNS} FROM events WHERE {conditions} ORDER BY occurred_at, seq LIMIT ?"
    )
    rows = conn.execute(d.sql(statement), (*params, limit + 1)).fetchall()
    events = [d.model(Event, row) for row in rows[:limit]]
    if len(rows) <= limit:
        return Page(items=events)
    key = (encode_time(events[-1].occurred_at), rows[limit - 1]["seq"])
    return Page(items=events, next_cursor=encode_cursor("events", key))


def job_events(d: Dialect, conn: Connection, job_id: str) -> list[Event]:
    statement = d.sql(f"SELECT {EVENT_COLUMNS} FROM events WHERE job_id = ? ORDER BY position, seq")
    return [d.model(Event, row) for row in conn.execute(statement, (job_id,))]


# --- jobs -------------------------------------------------------------------------------------------
def find_job(d: Dialect, conn: Connection, job_id: str) -> Job | None:
    return d.find(conn, Job, f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))


def get_job_by_id(d: Dialect, conn: Connection, job_id: str) -> Job:
    job = find_job(d, conn, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_job(d: Dialect, conn: Connection, tenant_id: str, job_id: str) -> Job:
    statement = f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND tenant_id = ?"
    return d.get(conn, Job, statement, (job_id, tenant_id), f"job {job_id} not found")


def get_jobs(d: Dialect, conn: Connection, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
    found: dict[str, Job] = {}
    unique = list(dict.fromkeys(job_ids))
    for start in range(0, len(unique), _BATCH):
        among, params = d.any_of("id", unique[start : start + _BATCH])
        rows = conn.execute(
            d.sql(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {among} AND tenant_id = ?"), (*params, tenant_id)
        )
        found.update((job.id, job) for job in (d.model(Job, row) for row in rows))
    return found


def lease_tenant(d: Dialect, conn: Connection, job_id: str, owner: str) -> str | None:
    """The job's tenant if ``owner`` holds its lease, else None; where the store locks rows, the job's
    row stays locked until commit, so a lease cannot be taken over while its holder finishes."""
    row = conn.execute(
        d.sql(
            "SELECT tenant_id FROM jobs WHERE id = ? AND status = 'processing' AND lease_owner = ?"
            + d.lock_row
        ),
        (job_id, owner),
    ).fetchone()
    return None if row is None else str(row["tenant_id"])


def mark_succeeded(d: Dialect, conn: Connection, job_id: str, memory_ids: list[str], now: datetime) -> None:
    """End the job (whose lease the caller holds) as succeeded with the memories it wrote."""
    conn.execute(
        d.sql(
            "UPDATE jobs SET status = 'succeeded', memory_ids = ?, last_error = NULL, lease_owner = NULL,"
            " lease_expires_at = NULL, updated_at = ? WHERE id = ?"
        ),
        (d.json(memory_ids), d.time(now), job_id),
    )


def fail_job(
    d: Dialect, conn: Connection, job_id: str, owner: str, error: str, now: datetime, retry: bool
) -> None:
    """Record the error and end the lease; a no-op if ``owner`` no longer holds it."""
    status = JobStatus.PENDING if retry else JobStatus.FAILED
    conn.execute(
        d.sql(
            "UPDATE jobs SET status = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL,"
            " updated_at = ? WHERE id = ? AND status = 'processing' AND lease_owner = ?"
        ),
        (status.value, error, d.time(now), job_id, owner),
    )


def renew_leases(
    d: Dialect, conn: Connection, owner: str, job_ids: Sequence[str], lease_until: datetime
) -> list[str]:
    renewed: list[str] = []
    unique = list(dict.fromkeys(job_ids))
    for start in range(0, len(unique), _BATCH):
        among, params = d.any_of("id", unique[start : start + _BATCH])
        rows = conn.execute(
            d.sql(
                f"UPDATE jobs SET lease_expires_at = ? WHERE {among}"
                " AND status = 'processing' AND lease_owner = ? RETURNING id"
            ),
            (d.time(lease_until), *params, owner),
        )
        renewed.extend(str(row["id"]) for row in rows.fetchall())
    return renewed


def release_jobs(d: Dialect, conn: Connection, owner: str) -> int:
    released = conn.execute(
        d.sql(
            "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
            " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
            " WHERE status = 'processing' AND lease_owner = ?"
        ),
        (owner,),
    )
    return released.rowcount
