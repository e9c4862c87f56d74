"""memhub: long-term memory for AI agents, as a server or embedded in your process.

    import memhub

    with memhub.Client(path="./memhub-data") as client:          # or memhub.Client("http://…", api_key=…)
        client.memories.add("I moved to Lisbon in May", user_id="ana", wait=True)
        for hit in client.memories.search("where does Ana live?", user_id="ana"):
            print(f"{hit.score:.2f} {hit.memory.text} {hit.sources}")

This namespace is curated: the clients, the errors they raise, and the model types their answers are
made of. Everything else lives in submodules whose names say what they are (``memhub.client`` for the
thin HTTP SDK, ``memhub.core`` for the domain). ``tests/test_public_api.py`` pins ``__all__``.
"""

from memhub._facade import AsyncClient, Client
from memhub._version import __version__
from memhub.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncCursorPage,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CursorPage,
    Health,
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
    ServerInfo,
    ServiceUnavailableError,
    Submission,
    UnprocessableEntityError,
)
from memhub.core.models import (
    Chunk,
    Event,
    Job,
    JobStatus,
    Memory,
    MemoryKind,
    MessageInput,
    SearchMode,
    SearchResult,
    Session,
    SourceRef,
    Space,
    User,
)

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncCursorPage",
    "AuthenticationError",
    "BadRequestError",
    "Chunk",
    "Client",
    "ConflictError",
    "CursorPage",
    "Event",
    "Health",
    "InternalServerError",
    "InvalidResponseError",
    "Job",
    "JobFailedError",
    "JobStatus",
    "JobTimeoutError",
    "MemhubAPIError",
    "MemhubClientError",
    "Memory",
    "MemoryKind",
    "MessageInput",
    "NotFoundError",
    "NotImplementedServerError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchMode",
    "SearchResult",
    "ServerInfo",
    "ServiceUnavailableError",
    "Session",
    "SourceRef",
    "Space",
    "Submission",
    "UnprocessableEntityError",
    "User",
    "__version__",
]
