"""memhub's native SDK: ``Client`` and ``AsyncClient`` over HTTP (or any httpx transport).

    from memhub.client import Client

    with Client("http://127.0.0.1:8420", api_key="mh_...") as client:
        client.memories.add([{"role": "user", "content": "I live in Lisbon"}], user_id="u1", wait=True)
        for hit in client.memories.search("where does the user live?", user_id="u1"):
            print(hit.score, hit.memory.text, hit.sources)

Most people import ``memhub.Client`` instead, which adds embedded mode (``Client(path="./data")``).

Layout: ``_async/`` is the hand-written client, ``_sync/`` is generated from it (unasync), and both
share the sans-I/O modules ``_protocol.py`` (requests, answers, errors) and ``_retry.py`` (retry policy).
This package imports nothing server-side (an import-linter contract checks it), so it can be used as a
thin client against a remote server.
"""

from ._async.client import AsyncClient
from ._async.pagination import AsyncCursorPage
from ._models import EmbedderInfo, Health, ServerInfo, Submission
from ._retry import RetryPolicy
from ._sync.client import Client
from ._sync.pagination import CursorPage
from .errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    JobFailedError,
    JobTimeoutError,
    MemhubAPIError,
    MemhubClientError,
    NotFoundError,
    NotImplementedServerError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncCursorPage",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "CursorPage",
    "EmbedderInfo",
    "Health",
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
    "RetryPolicy",
    "ServerInfo",
    "ServiceUnavailableError",
    "Submission",
    "UnprocessableEntityError",
]
