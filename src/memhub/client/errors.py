"""Every error the SDK raises, one class per HTTP status the server documents.

Callers catch the class that names their situation (``except NotFoundError``) instead of comparing
status codes; ``MemhubAPIError`` catches any answer the server gave, ``MemhubClientError`` anything at
all. The server's error body ``{"error": {"code", "message", "details"}}`` is unpacked onto the
exception so the machine-readable ``code`` survives the trip.

These are deliberately *not* the core errors of ``memhub.core.errors``: those say nothing about HTTP,
while an SDK user needs the status and the raw response (headers, request id) to act on a failure.
"""

from __future__ import annotations

from typing import Any

import httpx

from memhub.core.models import Job


class MemhubClientError(Exception):
    """Base class of every error the SDK raises."""


class MemhubAPIError(MemhubClientError):
    """The server answered with an error status. Subclasses name the status."""

    status: int = 0

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "error",
        details: dict[str, Any] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.response = response

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class BadRequestError(MemhubAPIError):
    """400: the body was not valid JSON (or not JSON at all)."""

    status = 400


class AuthenticationError(MemhubAPIError):
    """401: no API key, or one the server does not know (or has revoked)."""

    status = 401


class PermissionDeniedError(MemhubAPIError):
    """403: a valid key that may not do this."""

    status = 403


class NotFoundError(MemhubAPIError):
    """404: no such object for this tenant (another tenant's objects are not found either)."""

    status = 404


class ConflictError(MemhubAPIError):
    """409: the object already exists, or its state forbids the operation."""

    status = 409


class PayloadTooLargeError(MemhubAPIError):
    """413: a configured size limit (body, messages per request, content length) was exceeded."""

    status = 413


class UnprocessableEntityError(MemhubAPIError):
    """422: well-formed JSON with a wrong value; ``details`` says which field."""

    status = 422


class RateLimitError(MemhubAPIError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds (None if absent)."""

    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InternalServerError(MemhubAPIError):
    """500: a bug in the server. Not retried: memhub reports transient failures as 503."""

    status = 500


class NotImplementedServerError(MemhubAPIError):
    """501: the operation exists in a protocol memhub speaks but not in a self-hosted server."""

    status = 501


class ServiceUnavailableError(MemhubAPIError):
    """503: a dependency (database, model endpoint) is unreachable; retried automatically."""

    status = 503


class APIConnectionError(MemhubClientError):
    """The request got no answer: connection refused or reset, DNS failure, protocol error.

    ``request_sent`` is False when the failure happened before a byte of the request left the client
    (connect errors), which is what makes retrying a non-idempotent request safe.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class InvalidResponseError(MemhubClientError):
    """A success status with a body the SDK cannot read: not JSON, or not the documented shape.

    Usually a client and server of different versions, or a proxy answering in the server's place.
    """

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class JobFailedError(MemhubClientError):
    """A job waited for (``wait=True`` or ``jobs.wait``) ended ``failed``; ``job.last_error`` says why."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} failed after {job.attempts} attempt(s): {job.last_error}")
        self.job = job


class JobTimeoutError(MemhubClientError, TimeoutError):
    """A job waited for was still pending/processing when the wait timed out. It may still finish."""

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"job {job.id} still {job.status.value} after {timeout:g}s")
        self.job = job
        self.timeout = timeout


STATUS_ERRORS: dict[int, type[MemhubAPIError]] = {
    cls.status: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        PayloadTooLargeError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
        NotImplementedServerError,
        ServiceUnavailableError,
    )
}
"""Status → class. Statuses not listed (e.g. a proxy's 502) raise ``MemhubAPIError`` itself."""

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "InvalidResponseError",
    "JobFailedError",
    "JobTimeoutError",
    "MemhubAPIError",
    "MemhubClientError",
    "NotFoundError",
    "NotImplementedServerError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
]
