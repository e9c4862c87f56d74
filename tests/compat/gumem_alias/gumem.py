"""The GUMem doc's names for the real SDK, so its snippets (``from gumem import GUMemClient``) run as written.

The doc calls the package ``steamory-agent-kit-gumem`` / module ``gumem``; what PyPI publishes is
``steamory-agent-kit-gum`` / module ``gum`` with ``Gum*`` class names (docs/compat/gumem.md §0). Test only:
memhub does not ship this module.
"""

from gum import (
    ActionLogInput,
    AddMessagesRequest,
    AsyncSession,
    GetSessionMemoryParams,
    Message,
    RecallConfig,
    RequestOptions,
    Session,
    SessionCreateRequest,
)
from gum import AsyncGumClient as AsyncGUMemClient
from gum import GumApiError as GUMemApiError
from gum import GumClient as GUMemClient
from gum import GumConnectionError as GUMemConnectionError
from gum import GumEnvelope as GUMemEnvelope
from gum import GumError as GUMemError
from gum import GumTimeoutError as GUMemTimeoutError

__all__ = [
    "ActionLogInput",
    "AddMessagesRequest",
    "AsyncGUMemClient",
    "AsyncSession",
    "GUMemApiError",
    "GUMemClient",
    "GUMemConnectionError",
    "GUMemEnvelope",
    "GUMemError",
    "GUMemTimeoutError",
    "GetSessionMemoryParams",
    "Message",
    "RecallConfig",
    "RequestOptions",
    "Session",
    "SessionCreateRequest",
]
