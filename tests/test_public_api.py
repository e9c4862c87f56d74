"""``memhub``'s top-level namespace is curated: exactly what users need, and nothing by accident.

Adding a name to the public API is a decision; this test makes it a visible one (update ``EXPECTED``).
"""

from __future__ import annotations

import types

import memhub
import memhub.client

EXPECTED = {
    # clients
    "Client",
    "AsyncClient",
    "CursorPage",
    "AsyncCursorPage",
    "__version__",
    # answers that are HTTP envelopes
    "Submission",
    "ServerInfo",
    "Health",
    # the model types answers are made of (memhub.core.models)
    "Memory",
    "MemoryKind",
    "SearchResult",
    "SearchMode",
    "SourceRef",
    "Chunk",
    "Job",
    "JobStatus",
    "MessageInput",
    "Event",
    "User",
    "Session",
    "Space",
    # errors
    "MemhubClientError",
    "MemhubAPIError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "NotImplementedServerError",
    "ServiceUnavailableError",
    "APIConnectionError",
    "APITimeoutError",
    "InvalidResponseError",
    "JobFailedError",
    "JobTimeoutError",
}


def public_names(module: types.ModuleType) -> set[str]:
    """Names a reader of ``dir(module)`` would take for API: not private, not submodules."""
    return {
        name
        for name in dir(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), types.ModuleType)
    }


def test_all_is_exactly_the_intended_api() -> None:
    assert set(memhub.__all__) == EXPECTED
    assert len(memhub.__all__) == len(set(memhub.__all__))


def test_everything_in_all_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from memhub import *", namespace)
    assert set(namespace) - {"__builtins__"} == EXPECTED
    for name in memhub.__all__:
        assert getattr(memhub, name) is namespace[name]


def test_nothing_public_leaks_outside_all() -> None:
    assert public_names(memhub) == EXPECTED - {"__version__"}


def test_sdk_namespace_is_curated_too() -> None:
    assert public_names(memhub.client) == set(memhub.client.__all__)
    # The thin SDK offers the same errors and pages, without the embedded-capable façade.
    assert {"Client", "AsyncClient", "RetryPolicy", "EmbedderInfo"} <= set(memhub.client.__all__)


def test_facade_clients_are_sdk_clients() -> None:
    assert issubclass(memhub.Client, memhub.client.Client)
    assert issubclass(memhub.AsyncClient, memhub.client.AsyncClient)


def test_errors_share_one_root() -> None:
    for name in memhub.__all__:
        obj = getattr(memhub, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, memhub.MemhubClientError), name


def test_version_is_a_string() -> None:
    assert isinstance(memhub.__version__, str) and memhub.__version__.count(".") >= 1
