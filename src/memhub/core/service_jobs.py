"""Storing validated submissions (one, or many in one transaction) and reading their jobs back.

``service_ingest`` turns each kind of input into a :class:`Submission`; this module stores it, wakes the
worker (``on_submitted``) when a job was created, and answers job status, by id or by idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import ids
from .errors import InvalidInput
from .models import Event, EventKind, Job, JobStatus
from .service_base import ServiceBase, check_name


@dataclass(frozen=True)
class Submitted:
    """The answer to an add: the job, and whether this call created (or re-queued) it."""

    job: Job
    created: bool


@dataclass(frozen=True)
class Submission:
    """A validated add, not stored yet: its job and events (``prepare_*``, then :meth:`submit_all`)."""

    job: Job
    events: list[Event]


class JobsMixin(ServiceBase):
    """Submitting prepared adds, and the jobs they create."""

    _on_submitted: Callable[[], None] | None

    def submit_all(self, tenant_id: str, submissions: Sequence[Submission]) -> list[Submitted]:
        """Store prepared submissions in one store transaction (all or nothing), in order.

        For protocols whose one request carries many independent inputs (Memsy's ``/ingest``): N inputs
        cost one transaction, not N. A job id repeated within the batch is a resubmission of the first.
        """
        if any(s.job.tenant_id != tenant_id for s in submissions):
            raise InvalidInput("every submission must belong to the caller's tenant")
        if not submissions:
            return []
        stored = self.store.submit_many([(s.job, s.events) for s in submissions])
        if any(created for _, created in stored) and self._on_submitted is not None:
            self._on_submitted()
        return [Submitted(job, created) for job, created in stored]

    def _submission(
        self,
        job_id: str,
        tenant_id: str,
        space_id: str,
        user_id: str | None,
        kind: EventKind,
        events: list[Event],
    ) -> Submission:
        now = self.clock.now()
        job = Job(
            id=job_id,
            tenant_id=tenant_id,
            space_id=space_id,
            user_id=user_id,
            kind=kind,
            status=JobStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        return Submission(job, events)

    def _store_one(self, submission: Submission) -> Submitted:
        stored, created = self.store.submit(submission.job, submission.events)
        if created and self._on_submitted is not None:
            self._on_submitted()
        return Submitted(stored, created)

    def get_job(self, tenant_id: str, job_id: str) -> Job:
        return self.store.get_job(tenant_id, job_id)

    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        """The tenant's jobs among ``job_ids`` by id (one store call; unknown ids are left out)."""
        return self.store.get_jobs(tenant_id, job_ids)

    def job_events(self, tenant_id: str, job_id: str) -> list[Event]:
        """The events a job was submitted with (a document's original content), in submission order.

        For protocols that serve a submission's input back before (or without) its memories existing.
        """
        self.store.get_job(tenant_id, job_id)  # NotFound for another tenant's job
        return self.store.job_events(job_id)

    def get_job_by_key(self, tenant_id: str, idempotency_key: str, *, space: str | None = None) -> Job:
        """The job an add with this ``idempotency_key`` created, or :class:`NotFound`."""
        target = self.resolve_space(tenant_id, space)
        return self.store.get_job(tenant_id, keyed_job_id(tenant_id, target.id, idempotency_key))


def keyed_job_id(tenant_id: str, space_id: str, key: str) -> str:
    """A caller-keyed job id: scoped to tenant and space so equal keys of two tenants never meet."""
    check_name("idempotency_key", key)
    return ids.derived_id("keyed", tenant_id, space_id, key)
