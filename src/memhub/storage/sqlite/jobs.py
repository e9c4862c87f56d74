"""Submissions (a job and its events) and claiming and finishing jobs on SQLite (the rest: ``sql/jobs.py``).

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
from datetime import datetime

from memhub.core.errors import Conflict
from memhub.core.models import Event, Job, JobStatus
from memhub.core.ports import JobOutcome

from ..sql.analysis import KeywordAnalyser
from ..sql.codec import encode_time
from ..sql.columns import EVENT_COLUMNS, JOB_COLUMNS
from ..sql.jobs import check_submission, find_job, get_job_by_id, lease_tenant, mark_succeeded
from ..sql.rows import event_params, job_params
from .dialect import SQLITE
from .memories import write_outcome
from .rows import (
    placeholders,
)


# --- submissions ------------------------------------------------------------------------------------
def submit(conn: sqlite3.Connection, job: Job, events: list[Event]) -> tuple[Job, bool]:
    existing = find_job(SQLITE, conn, job.id)
    if existing is not None:
        return _resubmitted(conn, existing, job)
    check_submission(SQLITE, conn, job, events)
    conn.execute(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({placeholders(13)})", job_params(SQLITE, job))
    try:
        conn.executemany(
            f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({placeholders(15)})",
            (event_params(SQLITE, event) for event in events),
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict("an event id of this submission is already in use") from exc
    return find_job(SQLITE, conn, job.id) or job, True


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
    return get_job_by_id(SQLITE, conn, job.id), True


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
    return [get_job_by_id(SQLITE, conn, job_id) for job_id in ids]


def complete_job(
    conn: sqlite3.Connection, outcome: JobOutcome, owner: str, now: datetime, analyser: KeywordAnalyser
) -> bool:
    tenant_id = lease_tenant(SQLITE, conn, outcome.job_id, owner)
    if tenant_id is not None:  # else the lease was lost: another worker's work is not overwritten
        mark_succeeded(
            SQLITE, conn, outcome.job_id, write_outcome(conn, tenant_id, outcome, now, analyser), now
        )
    return tenant_id is not None
