"""Submissions (a job and its events), event listings, and the job queue with leases.

The queue is a table: ``claim_jobs`` picks the oldest jobs that are pending, or processing under a lease
that has expired (its worker died), and leases them to ``owner`` in the same ``BEGIN IMMEDIATE``
transaction, so two workers — threads or processes — never get the same job. Finishing a job
(``complete_job``, ``fail_job``) only acts while the caller still holds the lease: a worker that
stalled past its lease and lost the job to another cannot overwrite that one's work. (A lease that
expired without anyone taking the job over is still held: the work is done, so it is kept.)

``attempts`` counts leases granted, minus those given back by ``release_jobs`` (a graceful shutdown is
not a failed attempt); a failed job that is submitted again starts over at zero.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Event, EventKind, Job, JobStatus, Page
from memhub.core.ports import JobOutcome

from ..sql.codec import encode_json, encode_time
from ..sql.columns import EVENT_COLUMNS, JOB_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.tenancy import get_space
from ..sql.users import ensure_session, ensure_user
from .dialect import SQLITE
from .memories import write_outcome
from .rows import (
    event_from_row,
    event_params,
    job_from_row,
    job_params,
    placeholders,
)


# --- submissions ------------------------------------------------------------------------------------
def submit(conn: sqlite3.Connection, job: Job, events: list[Event]) -> tuple[Job, bool]:
    existing = _find_job(conn, job.id)
    if existing is not None:
        return _resubmitted(conn, existing, job)
    _check_events(job, events)
    for space_id in {job.space_id, *(event.space_id for event in events)}:
        get_space(SQLITE, conn, job.tenant_id, space_id)  # NotFound unless it is the tenant's
    _ensure_people(conn, job, events)
    conn.execute(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({placeholders(13)})", job_params(job))
    try:
        conn.executemany(
            f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({placeholders(15)})", map(event_params, events)
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict("an event id of this submission is already in use") from exc
    return _find_job(conn, job.id) or job, True


def _resubmitted(conn: sqlite3.Connection, existing: Job, job: Job) -> tuple[Job, bool]:
    """Same job id again: a no-op, unless the job had failed, in which case it is queued afresh."""
    if existing.tenant_id != job.tenant_id:
        raise Conflict(f"job id {job.id} is already in use")
    if existing.status != JobStatus.FAILED:
        return existing, False
    conn.execute(
        "UPDATE jobs SET status = 'pending', attempts = 0, last_error = NULL, lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = ? WHERE id = ?",
        (encode_time(job.updated_at), job.id),
    )
    return _get_job_by_id(conn, job.id), True


def _check_events(job: Job, events: list[Event]) -> None:
    for event in events:
        if event.tenant_id != job.tenant_id or event.job_id != job.id:
            raise InvalidInput(f"event {event.id} does not belong to job {job.id} of tenant {job.tenant_id}")


def _ensure_people(conn: sqlite3.Connection, job: Job, events: list[Event]) -> None:
    if job.user_id is not None:
        ensure_user(SQLITE, conn, job.tenant_id, job.user_id, job.created_at)
    for event in events:
        if event.user_id is not None:
            ensure_user(SQLITE, conn, job.tenant_id, event.user_id, event.created_at)
        if event.session_id is not None:
            ensure_session(
                SQLITE, conn, job.tenant_id, event.session_id, event.space_id, event.user_id, event.created_at
            )


# --- events -----------------------------------------------------------------------------------------
def list_events(
    conn: sqlite3.Connection,
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
    params: list[str | int] = [tenant_id]
    for column, value in (("user_id", user_id), ("session_id", session_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if kinds is not None:
        where.append(f"kind IN ({placeholders(len(kinds))})")
        params.extend(kind.value for kind in kinds)
    if after is not None:
        where.append("(occurred_at, seq) > (?, ?)")
        params.extend(after)
    sql = (
        f"SELECT seq, {EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)}"
        " ORDER BY occurred_at, seq LIMIT ?"
    )
    rows = conn.execute(sql, (*params, limit + 1)).fetchall()
    events = [event_from_row(row) for row in rows[:limit]]
    if len(rows) <= limit:
        return Page(items=events)
    last = rows[limit - 1]
    return Page(items=events, next_cursor=encode_cursor("events", (last["occurred_at"], last["seq"])))


def job_events(conn: sqlite3.Connection, job_id: str) -> list[Event]:
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE job_id = ? ORDER BY position, seq", (job_id,)
    )
    return [event_from_row(row) for row in rows]


# --- jobs -------------------------------------------------------------------------------------------
def _find_job(conn: sqlite3.Connection, job_id: str) -> Job | None:
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else job_from_row(row)


def _get_job_by_id(conn: sqlite3.Connection, job_id: str) -> Job:
    job = _find_job(conn, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_job(conn: sqlite3.Connection, tenant_id: str, job_id: str) -> Job:
    row = conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND tenant_id = ?", (job_id, tenant_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return job_from_row(row)


def get_jobs(conn: sqlite3.Connection, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
    found: dict[str, Job] = {}
    unique = list(dict.fromkeys(job_ids))
    for start in range(0, len(unique), 500):  # well under SQLite's bound-parameter limit
        batch = unique[start : start + 500]
        rows = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE id IN ({placeholders(len(batch))}) AND tenant_id = ?",
            (*batch, tenant_id),
        )
        found.update((job.id, job) for job in map(job_from_row, rows))
    return found


def claim_jobs(
    conn: sqlite3.Connection, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[Job]:
    now_text = encode_time(now)
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM jobs WHERE status IN ('pending', 'processing')"
            " AND (status = 'pending' OR lease_expires_at <= ?) ORDER BY created_at, seq LIMIT ?",
            (now_text, limit),
        )
    ]
    if not ids:
        return []
    conn.execute(
        "UPDATE jobs SET status = 'processing', lease_owner = ?, lease_expires_at = ?,"
        f" attempts = attempts + 1, updated_at = ? WHERE id IN ({placeholders(len(ids))})",
        (owner, encode_time(lease_until), now_text, *ids),
    )
    return [_get_job_by_id(conn, job_id) for job_id in ids]


def _holds_lease(conn: sqlite3.Connection, job_id: str, owner: str) -> str | None:
    """The job's tenant if ``owner`` holds its lease, else None."""
    row = conn.execute(
        "SELECT tenant_id FROM jobs WHERE id = ? AND status = 'processing' AND lease_owner = ?",
        (job_id, owner),
    ).fetchone()
    return None if row is None else str(row[0])


def complete_job(conn: sqlite3.Connection, outcome: JobOutcome, owner: str, now: datetime) -> bool:
    tenant_id = _holds_lease(conn, outcome.job_id, owner)
    if tenant_id is None:
        return False
    memory_ids = write_outcome(conn, tenant_id, outcome, now)
    conn.execute(
        "UPDATE jobs SET status = 'succeeded', memory_ids = ?, last_error = NULL, lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = ? WHERE id = ?",
        (encode_json(memory_ids), encode_time(now), outcome.job_id),
    )
    return True


def fail_job(
    conn: sqlite3.Connection, job_id: str, owner: str, error: str, now: datetime, retry: bool
) -> None:
    """Record the error and end the lease; a no-op if ``owner`` no longer holds it."""
    status = JobStatus.PENDING if retry else JobStatus.FAILED
    conn.execute(
        "UPDATE jobs SET status = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL,"
        " updated_at = ? WHERE id = ? AND status = 'processing' AND lease_owner = ?",
        (status.value, error, encode_time(now), job_id, owner),
    )


def renew_leases(
    conn: sqlite3.Connection, owner: str, job_ids: Sequence[str], lease_until: datetime
) -> list[str]:
    renewed: list[str] = []
    unique = list(dict.fromkeys(job_ids))
    for start in range(0, len(unique), 500):  # well under SQLite's bound-parameter limit
        batch = unique[start : start + 500]
        rows = conn.execute(
            f"UPDATE jobs SET lease_expires_at = ? WHERE id IN ({placeholders(len(batch))})"
            " AND status = 'processing' AND lease_owner = ? RETURNING id",
            (encode_time(lease_until), *batch, owner),
        )
        renewed.extend(str(row[0]) for row in rows)
    return renewed


def release_jobs(conn: sqlite3.Connection, owner: str) -> int:
    released = conn.execute(
        "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
        " attempts = max(attempts - 1, 0) WHERE status = 'processing' AND lease_owner = ?",
        (owner,),
    )
    return released.rowcount
