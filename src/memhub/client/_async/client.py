"""``AsyncClient``: the native memhub SDK, async flavour.

Written once, async, in ``_async/``: the sync ``Client`` in ``_sync/`` is generated from it by
``scripts/gen_sync_client.py`` with unasync, and a test fails if the generated file is out of step.

The client talks to whatever httpx transport it is given: a real HTTP connection by default, or the
in-process engine of ``memhub.embedded`` (what ``memhub.Client(path=...)`` does), so the same methods
run against a server and an embedded store alike.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TypeVar

import httpx

from .. import _protocol as protocol
from .._models import Health, ServerInfo
from .._retry import RetryPolicy
from .memories import AsyncMemories
from .requester import AsyncRequester
from .resources import AsyncDocuments, AsyncEvents, AsyncJobs, AsyncSessions, AsyncSpaces, AsyncUsers

C = TypeVar("C", bound="AsyncClient")


class AsyncClient:
    """A memhub server's native API: ``client.<resource>.<verb>()``.

    ``base_url`` defaults to ``$MEMHUB_URL`` (else ``http://127.0.0.1:8420``) and ``api_key`` to
    ``$MEMHUB_API_KEY``. ``timeout`` bounds each HTTP attempt in seconds; failed attempts are retried up
    to ``max_retries`` times when that is safe (see ``memhub.client._retry``). Close the client (or use it
    as a context manager) to release its connections.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = protocol.DEFAULT_TIMEOUT,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        url = base_url or os.environ.get("MEMHUB_URL") or protocol.DEFAULT_BASE_URL
        key = api_key if api_key is not None else os.environ.get("MEMHUB_API_KEY")
        self._http = httpx.AsyncClient(
            base_url=url,
            headers={**protocol.default_headers(key), **(headers or {})},
            timeout=timeout,
            transport=transport,
        )
        self._requester = AsyncRequester(self._http, RetryPolicy(max_retries=max_retries))
        self.memories = AsyncMemories(self._requester)
        self.documents = AsyncDocuments(self._requester)
        self.events = AsyncEvents(self._requester)
        self.jobs = AsyncJobs(self._requester)
        self.users = AsyncUsers(self._requester)
        self.spaces = AsyncSpaces(self._requester)
        self.sessions = AsyncSessions(self._requester)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy deciding retries; adjustable (``client.retry_policy.max_retries = 0``)."""
        return self._requester.policy

    async def info(self) -> ServerInfo:
        """Server version, store backend, embedding model, and what the caller's tenant holds."""
        return await self._requester.call(protocol.request("GET", "/v1/info"), ServerInfo)

    async def health(self) -> Health:
        """Liveness (needs no API key)."""
        return await self._requester.call(protocol.request("GET", "/health"), Health)

    async def aclose(self) -> None:
        """Release connections (and stop an embedded engine). Safe to call twice."""
        await self._http.aclose()

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"
