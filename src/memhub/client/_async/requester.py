"""The I/O half of the SDK: send a request (with retries), and wait for jobs.

Written once, async, in ``_async/``; the sync twin in ``_sync/`` is generated from it by
``scripts/gen_sync_client.py`` (unasync). Every decision — what to send, what an answer means, whether
to retry — lives in the sans-I/O modules (``_protocol.py``, ``_retry.py``); here only bytes move and
time passes.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import anyio
import httpx

from memhub.core.models import Job, JobStatus

from .. import _protocol as protocol
from .._models import Submission
from .._retry import RetryPolicy
from ..errors import APIConnectionError, JobFailedError, JobTimeoutError, MemhubClientError

T = TypeVar("T")

log = logging.getLogger("memhub.client")


class AsyncRequester:
    """Sends :class:`~memhub.client._protocol.RequestSpec` s over one httpx client, retrying per policy."""

    def __init__(self, http: httpx.AsyncClient, policy: RetryPolicy) -> None:
        self.http = http
        self.policy = policy

    async def send(self, spec: protocol.RequestSpec) -> httpx.Response:
        """The success answer to ``spec``, after at most ``policy.max_retries`` retries; else raise."""
        attempt = 0
        while True:
            outcome = await self._attempt(spec)
            if isinstance(outcome, httpx.Response):
                error: MemhubClientError | None = protocol.error_from_response(outcome)
                if error is None:
                    return outcome
            else:
                error = outcome
            delay = self.policy.delay(attempt, error, idempotent=spec.idempotent)
            if delay is None:
                raise error
            log.info("retrying %s %s in %.2fs after: %s", spec.method, spec.path, delay, error)
            await anyio.sleep(delay)
            attempt += 1

    async def _attempt(self, spec: protocol.RequestSpec) -> httpx.Response | APIConnectionError:
        try:
            return await self.http.request(spec.method, spec.path, params=spec.params, json=spec.json)
        except httpx.TransportError as exc:
            return protocol.transport_error(exc)

    async def call(self, spec: protocol.RequestSpec, type_: type[T]) -> T:
        """Send ``spec`` and parse its JSON answer as ``type_``."""
        response = await self.send(spec)
        return protocol.parse(type_, protocol.decode(response), response)

    async def call_field(self, spec: protocol.RequestSpec, name: str, type_: type[T]) -> T:
        """Send ``spec`` and parse the field ``name`` of its JSON answer as ``type_``."""
        response = await self.send(spec)
        data = protocol.field_of(protocol.decode(response), name, response)
        return protocol.parse(type_, data, response)

    async def submit(self, spec: protocol.RequestSpec, *, wait: bool, timeout: float | None) -> Submission:
        """Send an add; with ``wait``, block until its job finished and return the final state."""
        submission = await self.call(spec, Submission)
        if not wait:
            return submission
        job = await self.wait_for_job(submission.job_id, timeout)
        return submission.model_copy(update={"status": job.status, "job": job})

    async def wait_for_job(self, job_id: str, timeout: float | None) -> Job:
        """Poll the job until it succeeded (returned) or failed (:class:`JobFailedError`)."""
        deadline = protocol.Deadline(timeout)
        delays = protocol.poll_delays()
        while True:
            job = await self.call(protocol.request("GET", protocol.path("/v1/jobs", job_id)), Job)
            if job.status == JobStatus.FAILED:
                raise JobFailedError(job)
            if job.status == JobStatus.SUCCEEDED:
                return job
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0.0:
                raise JobTimeoutError(job, timeout or 0.0)
            delay = next(delays)
            await anyio.sleep(delay if remaining is None else min(delay, remaining))
