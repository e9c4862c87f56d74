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

from datetime import datetime

from memhub.core.errors import Conflict
from memhub.core.models import Event, Job, JobStatus
from memhub.core.ports import JobOutcome

from ..sql.analysis import KeywordAnalyser
from ..sql.columns import EVENT_COLUMNS, JOB_COLUMNS
from ..sql.jobs import check_submission, find_job, get_job_by_id, lease_tenant, mark_succeeded
from ..sql.rows import event_params, job_params
from .db import Conn
from .dialect import POSTGRES
from .memories import write_outcome
from .rows import (
    placeholders,
    utc,
)


# --- submissions ------------------------------------------------------------------------------------
def submit(conn: Conn, job: Job, events: list[Event]) -> tuple[Job, bool]:
    existing = find_job(POSTGRES, conn, job.id)
    if existing is not None:
        return _resubmitted(conn, existing, job)
    check_submission(POSTGRES, conn, job, events)
    added = conn.execute(
        f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({placeholders(13)}) ON CONFLICT (id) DO NOTHING",
        job_params(POSTGRES, job),
    )
    if added.rowcount == 0:  # another replica stored this very submission meanwhile
        raced = find_job(POSTGRES, conn, job.id)
        assert raced is not None
        return _resubmitted(conn, raced, job)
    _insert_events(conn, events)
    return find_job(POSTGRES, conn, job.id) or job, True


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
            copy.write_row(event_params(POSTGRES, event))


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
        return get_job_by_id(POSTGRES, conn, job.id), False
    return Job.model_validate(row), True


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


def complete_job(
    conn: Conn, outcome: JobOutcome, owner: str, now: datetime, analyser: KeywordAnalyser
) -> bool:
    tenant_id = lease_tenant(POSTGRES, conn, outcome.job_id, owner)
    if tenant_id is not None:  # else the lease was lost: another worker's work is not overwritten
        mark_succeeded(
            POSTGRES, conn, outcome.job_id, write_outcome(conn, tenant_id, outcome, now, analyser), now
        )
    return tenant_id is not None
