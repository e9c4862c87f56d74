"""Errors raised by the core and the layers below it.

They carry a stable machine-readable ``code`` and a message that tells the caller what to fix. They say
nothing about HTTP: the API layer maps each class to a status code in one table (``api/errors.py``).
"""

from __future__ import annotations

from typing import Any


class MemhubError(Exception):
    """Base class of every error memhub raises on purpose."""

    code = "internal"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidInput(MemhubError):
    """The request is well-formed but a value is wrong (bad id, out-of-range limit, bad filter)."""

    code = "invalid_input"


class NotFound(MemhubError):
    """The object does not exist *for this tenant* (another tenant's objects are not found either)."""

    code = "not_found"


class Conflict(MemhubError):
    """The object already exists or is in a state that forbids the operation."""

    code = "conflict"


class Unauthenticated(MemhubError):
    """No credentials, or credentials that match no live API key."""

    code = "unauthenticated"


class PermissionDenied(MemhubError):
    """Valid credentials that may not do this."""

    code = "permission_denied"


class LimitExceeded(MemhubError):
    """A configured size limit (content length, messages per request, page size) was exceeded."""

    code = "limit_exceeded"


class RateLimited(MemhubError):
    """Too many requests for this key; ``retry_after`` says when to try again (seconds)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Unavailable(MemhubError):
    """A dependency (model endpoint, database) is unreachable; retrying later may succeed.

    ``retry_after`` (seconds) is when a retry is worth it: the API sends it as ``Retry-After``.
    """

    code = "unavailable"
    retry_after: float = 5.0


class StorageFull(Unavailable):
    """The store cannot grow (disk full, quota): nothing was written; retry once space is freed."""

    code = "storage_full"
    retry_after = 60.0


class ModelRetired(Unavailable):
    """This process embeds with a model its store no longer uses (``memhub reindex`` switched it to
    another): it must be restarted with the store's model. Nothing was written."""

    code = "model_retired"


class NotSupported(MemhubError):
    """The operation exists in a protocol memhub speaks but cannot exist in a self-hosted server."""

    code = "not_supported"
