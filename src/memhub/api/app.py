"""``create_app(settings)``: the FastAPI application of ``memhub serve``.

The app owns one :class:`~memhub.runtime.Runtime` for its lifetime: the lifespan opens it (store, models,
service), creates the first API key on a fresh store, starts the in-process worker unless
``settings.worker`` is off, and on shutdown closes it — the worker finishes its batch and gives its job
leases back, so nothing in flight is lost. Routes find the runtime on ``app.state.runtime`` and the
service on ``app.state.service`` (through ``deps.py``).

Protocol adapters ("doors") are the static list ``compat/doors.py`` (:data:`ADAPTERS`); each declares a
:class:`~memhub.api.compat.adapter.ProtocolAdapter` (its prefix setting, router factory and error
renderer). The renderer answers errors under the door's prefix (validation, 404, 401, 413, 500…) in its
product's shape; the status is still the one ``errors.py`` decides.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, nullcontext
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware import Middleware

from memhub import gc_tuning
from memhub._version import __version__
from memhub.core.errors import Unavailable
from memhub.core.ports import Embedder
from memhub.runtime import Runtime
from memhub.settings import Settings

from . import mcp_http, native
from .auth import bootstrap_admin_key
from .compat.adapter import ProtocolAdapter, configured_prefix, mount_prefix, off_renderer
from .compat.doors import ADAPTERS
from .console import mount_console
from .deps import require_tenant
from .docs import add_docs_routes
from .errors import ErrorRenderers, install_error_handlers
from .input_guard import InputGuardMiddleware
from .metrics import Metrics, MetricsMiddleware, add_metrics_route
from .middleware import BodyLimitMiddleware, MethodGuardMiddleware, RequestLogMiddleware
from .ratelimit import RateLimiter
from .schemas import Health
from .slow_clients import BodyTimeoutMiddleware

log = logging.getLogger("memhub.api")


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    adapters: Sequence[ProtocolAdapter] = ADAPTERS,
    bootstrap_key: bool = True,
    owns_process: bool = False,
) -> FastAPI:
    """Build the app. ``embedder`` replaces the configured one (tests); ``adapters`` defaults to all.

    ``bootstrap_key=False`` skips creating and printing the first admin key: the embedded client runs
    the app inside a library, where printing a secret to the caller's stderr would be wrong.
    ``owns_process=True`` (``memhub serve``: the process exists to run this app) also freezes the heap
    once start-up is done (``memhub/gc_tuning.py``); an app inside someone else's process (the embedded
    client, tests) leaves the objects there alone.
    """
    settings = settings or Settings()
    renderers = ErrorRenderers()
    metrics = Metrics()
    app = FastAPI(
        title="memhub",
        version=__version__,
        description="Self-hosted long-term memory for AI agents. Native API under `/v1`.",
        lifespan=_lifespan(settings, embedder, bootstrap_key, metrics, owns_process),
        middleware=_middleware(settings, renderers, metrics),
        docs_url=None,  # docs.py serves /docs and /redoc from installed packages, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_public else None,
    )
    app.state.settings = settings
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
    )
    install_error_handlers(app, renderers)
    app.add_api_route("/health", _health, methods=["GET"], tags=["server"], summary="Liveness (no key)")
    app.add_api_route("/ready", _ready, methods=["GET"], tags=["server"], summary="Readiness (no key)")
    add_metrics_route(app, settings, metrics)
    metrics.watch_store(lambda: getattr(app.state, "runtime", None))
    mcp_http.mount(app, settings)
    if settings.docs_public:
        add_docs_routes(app, "/openapi.json")
    else:
        _add_private_openapi(app)
    app.include_router(native.create_router())
    mount_adapters(app, settings, renderers, adapters)
    if settings.console:
        mount_console(app, renderers)
    return app


async def _health() -> Health:
    return Health(version=__version__)


def _ready(request: Request) -> Health:
    """Ready when the store answers a query (and, on SQLite, its disk has room): a 503 or 507 with
    ``Retry-After`` otherwise, so a load balancer or orchestrator stops sending requests. ``/health``
    stays the liveness check (the process answers)."""
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise Unavailable("the server is starting or stopping")
    runtime.store.check_ready()
    return Health(version=__version__)


def _lifespan(
    settings: Settings, embedder: Embedder | None, bootstrap_key: bool, metrics: Metrics, owns_process: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings, embedder=embedder, observer=metrics)
        try:
            app.state.runtime = runtime
            app.state.service = runtime.service
            if bootstrap_key:
                bootstrap_admin_key(runtime.service, settings.data, show=not settings.log_json)
            if settings.worker:
                runtime.start_worker()
            log.info("memhub %s ready (store: %s)", __version__, runtime.store.backend)
            with _collector(settings, owns_process):
                async with mcp_http.serving(app, runtime.service):  # the MCP SDK's task group lives here
                    yield
        finally:
            runtime.close()
            log.info("memhub stopped")

    return lifespan


def _collector(settings: Settings, owns_process: bool) -> AbstractContextManager[None]:
    """The garbage collector set for serving while the app runs (start-up done: what exists now stays)."""
    return gc_tuning.tuned(freeze=owns_process) if settings.gc_tuning else nullcontext()


def _middleware(settings: Settings, renderers: ErrorRenderers, metrics: Metrics) -> list[Middleware]:
    """Outermost first: log every request (and catch the unexpected), time it, CORS, the body limit,
    the body's time limit, the input guard (text and numbers no store can hold), then 405s."""
    stack = [
        Middleware(RequestLogMiddleware, renderers=renderers),
        Middleware(MetricsMiddleware, metrics=metrics),
    ]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["Retry-After"],
            )
        )
    stack.append(Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, renderers=renderers))
    stack.append(Middleware(BodyTimeoutMiddleware, seconds=settings.body_timeout, renderers=renderers))
    stack.append(Middleware(InputGuardMiddleware, renderers=renderers))
    stack.append(Middleware(MethodGuardMiddleware, renderers=renderers))
    return stack


def _add_private_openapi(app: FastAPI) -> None:
    """With ``docs_public`` off, the schema needs a key and the browser UI (which cannot send one) is off."""

    def openapi_schema() -> dict[str, Any]:
        return app.openapi()

    app.add_api_route(
        "/openapi.json",
        openapi_schema,
        methods=["GET"],
        include_in_schema=False,
        dependencies=[Depends(require_tenant)],
    )


def mount_adapters(
    app: FastAPI, settings: Settings, renderers: ErrorRenderers, adapters: Sequence[ProtocolAdapter]
) -> list[str]:
    """Mount each adapter its settings switch on, with its error renderer; returns the prefixes mounted."""
    mounted = []
    for adapter in adapters:
        prefix = mount_prefix(adapter, settings)
        if prefix is None:
            if adapter.off_hint:  # its clients get the door's own 404 saying how to turn it on
                renderers.register(configured_prefix(adapter, settings), off_renderer(adapter))
            continue
        app.include_router(adapter.create_router(settings), prefix=prefix)
        renderers.register(prefix, adapter.render_error)
        mounted.append(prefix)
        if adapter.announce:
            log.info("%s", adapter.announce(settings))
        else:
            log.debug("mounted %s at %s", adapter.name, prefix)
    return mounted
