"""Submissions, event listings and the job queue on PostgreSQL — twin of ``sqlite/jobs.py``.

The queue is the ``jobs`` table, shared by every worker process on every machine. ``claim_jobs`` picks
the oldest claimable jobs (pending, or processing under an expired lease) with
``FOR UPDATE SKIP LOCKED`` and leases them in the same statement: a job another worker is claiming at
that instant is skipped rather than waited for, so workers never block each other and never receive the
same job. Finishing a job locks its row (``FOR UPDATE``) and checks the lease under that lock, so a
worker whose lease expired and was taken over cannot overwrite the new holder's work.

Submissions are idempotent on the job id even when two API replicas receive the same submission at
once: the job row goes in with ``ON CONFLICT DO NOTHING`` first, and the loser of that race (which
waits for the winner's commit) takes the "already submitted" path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Event, EventKind, Job, JobStatus, Page
from memhub.core.ports import JobOutcome

from ..sql.codec import encode_time
from ..sql.columns import EVENT_COLUMNS, JOB_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.tenancy import get_space
from ..sql.users import ensure_session, ensure_user
from .db import Conn
from .dialect import POSTGRES
from .memories import write_outcome
from .rows import (
    event_params,
    job_params,
    placeholders,
    utc,
)


# --- submissions ------------------------------------------------------------------------------------
def submit(conn: Conn, job: Job, events: list[Event]) -> tuple[Job, bool]:
    existing = _find_job(conn, job.id)
    if existing is not None:
        return _resubmitted(conn, existing, job)
    _check_events(job, events)
    for space_id in {job.space_id, *(event.space_id for event in events)}:
        get_space(POSTGRES, conn, job.tenant_id, space_id)  # NotFound unless it is the tenant's
    _ensure_people(conn, job, events)
    added = conn.execute(
        f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({placeholders(13)}) ON CONFLICT (id) DO NOTHING",
        job_params(job),
    )
    if added.rowcount == 0:  # another replica stored this very submission meanwhile
        raced = _find_job(conn, job.id)
        assert raced is not None
        return _resubmitted(conn, raced, job)
    _insert_events(conn, events)
    return _find_job(conn, job.id) or job, True


def _insert_events(conn: Conn, events: list[Event]) -> None:
    if not events:
        return
    taken = conn.execute(
        "SELECT 1 FROM events WHERE id = ANY(%s::text[]) LIMIT 1", ([e.id for e in events],)
    ).fetchone()
    if taken is not None or len({e.id for e in events}) != len(events):
        raise Conflict("an event id of this submission is already in use")
    # binary COPY: one statement for the batch instead of one (pipelined) INSERT per event
    with conn.cursor() as cur, cur.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_EVENT_TYPES)
        for event in events:
            copy.write_row(event_params(event))


_EVENT_TYPES = [*["text"] * 10, "jsonb", "timestamptz", "timestamptz", "text", "integer"]


def _resubmitted(conn: Conn, existing: Job, job: Job) -> tuple[Job, bool]:
    """Same job id again: a no-op, unless the job had failed, in which case it is queued afresh."""
    if existing.tenant_id != job.tenant_id:
        raise Conflict(f"job id {job.id} is already in use")
    if existing.status != JobStatus.FAILED:
        return existing, False
    row = conn.execute(
        "UPDATE jobs SET status = 'pending', attempts = 0, last_error = NULL, lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = %s WHERE id = %s AND status = 'failed'"
        f" RETURNING {JOB_COLUMNS}",
        (utc(job.updated_at), job.id),
    ).fetchone()
    if row is None:  # another replica requeued it first
        return _get_job_by_id(conn, job.id), False
    return Job.model_validate(row), True


def _check_events(job: Job, events: list[Event]) -> None:
    for event in events:
        if event.tenant_id != job.tenant_id or event.job_id != job.id:
            raise InvalidInput(f"event {event.id} does not belong to job {job.id} of tenant {job.tenant_id}")


def _ensure_people(conn: Conn, job: Job, events: list[Event]) -> None:
    """Users and sessions the submission names, each looked at once (a batch names few of them)."""
    seen: set[tuple[str | None, str | None]] = set()
    if job.user_id is not None:
        ensure_user(POSTGRES, conn, job.tenant_id, job.user_id, job.created_at)
        seen.add((job.user_id, None))
    for event in events:
        if (event.user_id, event.session_id) in seen:
            continue
        seen.add((event.user_id, event.session_id))
        if event.user_id is not None:
            ensure_user(POSTGRES, conn, job.tenant_id, event.user_id, event.created_at)
        if event.session_id is not None:
            ensure_session(
                POSTGRES,
                conn,
                job.tenant_id,
                event.session_id,
                event.space_id,
                event.user_id,
                event.created_at,
            )


# --- events -----------------------------------------------------------------------------------------
def list_events(
    conn: Conn,
    tenant_id: str,
    user_id: str | None,
    session_id: str | None,
    kinds: list[EventKind] | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Events oldest first: by ``occurred_at``, then the order they were stored in."""
    after = decode_cursor("events", cursor, 2)
    where: list[str] = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    for column, value in (("user_id", user_id), ("session_id", session_id)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if kinds is not None:
        where.append("kind = ANY(%s::text[])")
        params.append([kind.value for kind in kinds])
    if after is not None:
        where.append("(occurred_at, seq) > (%s::timestamptz, %s::bigint)")
        params.extend(after)
    statement = (
        f"SELECT seq, {EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)}"
        " ORDER BY occurred_at, seq LIMIT %s"
    )
    rows = conn.execute(statement, (*params, limit + 1)).fetchall()
    events = [Event.model_validate(row) for row in rows[:limit]]
    if len(rows) <= limit:
        return Page(items=events)
    last = rows[limit - 1]
    return Page(
        items=events, next_cursor=encode_cursor("events", (encode_time(last["occurred_at"]), last["seq"]))
    )


def job_events(conn: Conn, job_id: str) -> list[Event]:
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE job_id = %s ORDER BY position, seq", (job_id,)
    )
    return [Event.model_validate(row) for row in rows]


# --- jobs -------------------------------------------------------------------------------------------
def _find_job(conn: Conn, job_id: str) -> Job | None:
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return None if row is None else Job.model_validate(row)


def _get_job_by_id(conn: Conn, job_id: str) -> Job:
    job = _find_job(conn, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_job(conn: Conn, tenant_id: str, job_id: str) -> Job:
    row = conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s AND tenant_id = %s", (job_id, tenant_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return Job.model_validate(row)


def get_jobs(conn: Conn, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
    rows = conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ANY(%s::text[]) AND tenant_id = %s",
        (list(dict.fromkeys(job_ids)), tenant_id),
    )
    return {job.id: job for job in map(Job.model_validate, rows)}


_CLAIM = f"""
WITH picked AS (
    SELECT id FROM jobs
    WHERE status IN ('pending', 'processing') AND (status = 'pending' OR lease_expires_at <= %(now)s)
    ORDER BY created_at, seq LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
UPDATE jobs SET status = 'processing', lease_owner = %(owner)s, lease_expires_at = %(until)s,
    attempts = jobs.attempts + 1, updated_at = %(now)s
FROM picked WHERE jobs.id = picked.id
RETURNING jobs.seq, {", ".join("jobs." + c.strip() for c in JOB_COLUMNS.split(","))}"""


def claim_jobs(conn: Conn, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
    rows = conn.execute(
        _CLAIM, {"now": utc(now), "limit": limit, "owner": owner, "until": utc(lease_until)}
    ).fetchall()
    rows.sort(key=lambda row: (row["created_at"], row["seq"]))
    return [Job.model_validate(row) for row in rows]


def _holds_lease(conn: Conn, job_id: str, owner: str) -> str | None:
    """The job's tenant if ``owner`` holds its lease (the row stays locked until commit), else None."""
    row = conn.execute(
        "SELECT tenant_id FROM jobs WHERE id = %s AND status = 'processing' AND lease_owner = %s FOR UPDATE",
        (job_id, owner),
    ).fetchone()
    return None if row is None else str(row["tenant_id"])


def complete_job(conn: Conn, outcome: JobOutcome, owner: str, now: datetime) -> bool:
    tenant_id = _holds_lease(conn, outcome.job_id, owner)
    if tenant_id is None:
        return False
    memory_ids = write_outcome(conn, tenant_id, outcome, now)
    conn.execute(
        "UPDATE jobs SET status = 'succeeded', memory_ids = %s, last_error = NULL, lease_owner = NULL,"
        " lease_expires_at = NULL, updated_at = %s WHERE id = %s",
        (Jsonb(memory_ids), utc(now), outcome.job_id),
    )
    return True


def fail_job(conn: Conn, job_id: str, owner: str, error: str, now: datetime, retry: bool) -> None:
    """Record the error and end the lease; a no-op if ``owner`` no longer holds it."""
    status = JobStatus.PENDING if retry else JobStatus.FAILED
    conn.execute(
        "UPDATE jobs SET status = %s, last_error = %s, lease_owner = NULL, lease_expires_at = NULL,"
        " updated_at = %s WHERE id = %s AND status = 'processing' AND lease_owner = %s",
        (status.value, error, utc(now), job_id, owner),
    )


def renew_leases(conn: Conn, owner: str, job_ids: Sequence[str], lease_until: datetime) -> list[str]:
    rows = conn.execute(
        "UPDATE jobs SET lease_expires_at = %s WHERE id = ANY(%s::text[])"
        " AND status = 'processing' AND lease_owner = %s RETURNING id",
        (utc(lease_until), list(job_ids), owner),
    ).fetchall()
    return [str(row["id"]) for row in rows]


def release_jobs(conn: Conn, owner: str) -> int:
    released = conn.execute(
        "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
        " attempts = greatest(attempts - 1, 0) WHERE status = 'processing' AND lease_owner = %s",
        (owner,),
    )
    return released.rowcount
