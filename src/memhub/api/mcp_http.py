"""The MCP streamable-HTTP endpoint of ``memhub serve``, at ``/mcp``, behind the same API keys as ``/v1``.

The MCP SDK's :class:`StreamableHTTPSessionManager` needs a task group that lives as long as the app, so
:class:`McpEndpoint` is mounted when the app is built but *started* inside the app's lifespan, once the
runtime (and so the service the tools call) exists: ``async with endpoint.running(service): ...``.

Each request is authenticated here, before the SDK sees it: a missing or bad key is the native 401
envelope, a key over its rate limit the native 429. The key's tenant id goes into the ASGI scope, where
the tools read it back (:func:`_scope_tenant`), so a tool call can only ever act as the tenant
of the key that sent it. The manager runs *stateless* with JSON responses: every POST is one complete
exchange, nothing is kept per client between requests, and so there is no session that another key
could pick up, and no affinity needed behind a load balancer.

The SDK's DNS-rebinding guard (Host/Origin checks) is on when the server binds a loopback address, as
the SDK does by default; a server bound to another address is reached under names we cannot know.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup, TaskStatus
from fastapi import FastAPI
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from memhub.core.errors import MemhubError, Unavailable
from memhub.core.service import MemoryService
from memhub.settings import Settings

from .deps import bearer_tenant
from .errors import from_core_error, render_envelope

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context, MCPServer

MCP_PATH = "/mcp"
TENANT_SCOPE_KEY = "memhub.tenant_id"
"""Where the authenticated tenant's id is left in the ASGI scope (read by ``memhub.mcp.scope_tenant``)."""


def mcp_available() -> bool:
    """Whether the optional ``mcp`` package (``pip install 'memhub[mcp]'``) is installed."""
    return importlib.util.find_spec("mcp") is not None


class McpEndpoint:
    """The ASGI app at ``/mcp``: authenticates, then hands the request to the SDK's session manager.

    The SDK (with its cryptography and JSON-schema stack) takes a second or two to import, so it is
    loaded on the first MCP request, not at start-up: a server nobody talks MCP to starts as fast as
    before. The manager then runs in a task group opened by :meth:`running` for the app's lifespan.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = anyio.Lock()
        self._tasks: TaskGroup | None = None
        self._service: MemoryService | None = None
        self._handle: ASGIApp | None = None

    @asynccontextmanager
    async def running(self, service: MemoryService) -> AsyncIterator[None]:
        """Serve MCP requests with ``service`` for as long as the context is open (the app's lifespan)."""
        async with anyio.create_task_group() as tasks:
            self._tasks, self._service = tasks, service
            try:
                yield
            finally:
                self._tasks = self._service = self._handle = None
                tasks.cancel_scope.cancel()  # ends the manager's run(), closing whatever it holds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            tenant = await anyio.to_thread.run_sync(bearer_tenant, request)
            handle = await self._started()
        except MemhubError as exc:
            await render_envelope(from_core_error(exc))(scope, receive, send)
            return
        scope[TENANT_SCOPE_KEY] = tenant.id
        await handle(scope, receive, send)

    async def _started(self) -> ASGIApp:
        async with self._lock:
            if self._handle is None:
                if self._tasks is None:
                    raise Unavailable("the MCP endpoint is not running (the server is starting or stopping)")
                self._handle = await self._tasks.start(self._run_manager)
            return self._handle

    async def _run_manager(self, *, task_status: TaskStatus[ASGIApp]) -> None:
        server = await anyio.to_thread.run_sync(self._build_server)
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            host=self._settings.host,
            max_request_body_size=self._settings.max_body_bytes,
        )
        async with server.session_manager.run():
            task_status.started(server.session_manager.handle_request)
            await anyio.sleep_forever()

    def _build_server(self) -> MCPServer:
        from memhub.mcp import build_server

        assert self._service is not None  # only started from inside running()
        return build_server(self._service, _scope_tenant)


def _scope_tenant(ctx: Context) -> str | None:
    """The tenant :meth:`McpEndpoint.__call__` authenticated for the HTTP request of this tool call."""
    request = ctx.request_context.request
    tenant_id = getattr(request, "scope", {}).get(TENANT_SCOPE_KEY)
    return tenant_id if isinstance(tenant_id, str) else None


def mount(app: FastAPI, settings: Settings) -> None:
    """Mount ``/mcp`` if the ``mcp`` extra is installed; :func:`serving` runs it in the app's lifespan."""
    endpoint = McpEndpoint(settings) if mcp_available() else None
    app.state.mcp = endpoint
    if endpoint is not None:
        # A Route around an ASGI app rather than a Mount: clients POST to /mcp itself, not /mcp/.
        route = Route(MCP_PATH, endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False)
        app.router.routes.append(route)


@asynccontextmanager
async def serving(app: FastAPI, service: MemoryService) -> AsyncIterator[None]:
    """Run the app's MCP endpoint (if mounted) for as long as the context is open."""
    endpoint: McpEndpoint | None = getattr(app.state, "mcp", None)
    if endpoint is None:
        yield
        return
    async with endpoint.running(service):
        yield
