"""Embedded mode: the whole memhub server inside the caller's process, reached through the SDK.

``memhub.Client(path="./memhub-data")`` should behave exactly like ``memhub.Client("http://…")`` —
same methods, same answers, same errors — so code written against one runs against the other. The
surest way to get that is not a second implementation of the API but the *same* ASGI app the server
runs (``memhub.api.app.create_app``), called in-process through an httpx transport
(``asgi.py`` carries each request to the app). The SDK cannot
tell the difference, and every rule of the HTTP layer (validation, error envelope, status codes)
applies unchanged.

How it runs: :class:`EmbeddedEngine` owns a private event loop in a daemon thread. On it the app's
lifespan is driven through the ASGI lifespan protocol (as uvicorn does), which opens the runtime and
starts the in-process worker; requests are then dispatched to that loop from any thread. Why a thread
for both flavours: an ASGI app is async-only, so the sync client needs a loop of its own anyway, and
giving the async client the same private loop means the engine outlives no caller's loop,
never blocks it while the store and model load, and is shut down the same way.

Authentication is real but internal: after start-up the engine uses a key for tenant ``default`` kept
in ``<data>/embedded-key`` (mode 0600; created on first use, reused afterwards, never printed) and adds
it to every request, so the app's own key check runs as it would for a remote caller.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from memhub.api.app import create_app
from memhub.api.auth import DEFAULT_TENANT, EMBEDDED_KEY_NAME, write_secret_file
from memhub.client._protocol import EMBEDDED_HOST
from memhub.core.errors import Unauthenticated
from memhub.core.ports import Embedder
from memhub.core.service import MemoryService
from memhub.embedded.asgi import call_app
from memhub.runtime import Runtime
from memhub.settings import Settings

log = logging.getLogger("memhub.embedded")

T = TypeVar("T")
KEY_FILE = "embedded-key"
EMBEDDED_BASE_URL = EMBEDDED_HOST  # the SDK knows it: a failure there has no server to start
STOP_TIMEOUT = 30.0

Message = dict[str, Any]


def embedded_settings(path: str | Path, settings: Settings | None = None) -> Settings:
    """Settings for an engine over ``path``: the caller's (or the defaults), pointed at that folder.

    The store is the folder's SQLite file even when ``MEMHUB_DATABASE_URL`` is set in the environment:
    ``path`` names where the data is, and silently using another store would be a nasty surprise. Pass
    ``settings`` with ``database_url`` to embed over PostgreSQL on purpose. Rate limiting is off: there is
    no one to protect the engine from but its owner.
    """
    base = settings if settings is not None else Settings(database_url=None)
    return base.model_copy(update={"data": Path(path), "rate_limit_per_minute": None})


class _Lifespan:
    """Drives an ASGI app's lifespan (startup / shutdown) the way a server does."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.ensure_future(self._app(scope, self._inbox.get, self._outbox.put))
        await self._exchange("lifespan.startup")

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._exchange("lifespan.shutdown")
        await self._task

    async def _exchange(self, event: str) -> None:
        """Send ``event`` and wait for the app's answer; an app that failed re-raises its own error."""
        assert self._task is not None
        await self._inbox.put({"type": event})
        answer = asyncio.ensure_future(self._outbox.get())
        await asyncio.wait({answer, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
            self._task.result()  # raises what the app raised
            raise RuntimeError(f"the app ended its lifespan without answering {event}")
        message = answer.result()
        if message["type"].endswith(".failed"):
            # Starlette answers "failed" and then re-raises: surface the app's own exception.
            await asyncio.wait({self._task}, timeout=STOP_TIMEOUT)
            error = self._task.exception() if self._task.done() and not self._task.cancelled() else None
            if error is not None:
                raise error
            raise RuntimeError(f"memhub {event} failed: {message.get('message', '')}")


class EmbeddedEngine:
    """memhub's ASGI app and runtime on a private event loop in a background thread."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._app = create_app(settings, embedder=embedder, adapters=(), bootstrap_key=False)
        self._lifespan = _Lifespan(self._app)
        self._secret: str | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._stopping: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._run_loop, name="memhub-embedded", daemon=True)
        self._thread.start()
        self.started = self._submit(self._startup())
        # A client nobody closed still shuts down gracefully at exit (the worker gives its leases back).
        atexit.register(self.close)

    # --- lifecycle ---------------------------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        # One long-lived root task, as under uvicorn. anyio parks the worker threads that run sync
        # endpoints on the task it finds started by run_until_complete; under a bare run_forever every
        # request's own task became that root, so each request started (and ended) a thread, and with
        # it a new SQLite read connection: a schema parse and a cold page cache on every call.
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        await self._stopping

    def _stop_loop(self) -> None:
        if not self._stopping.done():
            self._stopping.set_result(None)

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _startup(self) -> None:
        await self._lifespan.startup()
        self._secret = embedded_key(self._app.state.service, self.settings.data)
        log.debug("embedded memhub ready over %s", self.settings.data)

    def wait_started(self) -> None:
        """Block until the engine is up; re-raises why it could not start."""
        self.started.result()

    def close(self) -> None:
        """Run the app's shutdown (the worker gives its leases back, the store closes), stop the loop.

        Idempotent and safe from any thread but the engine's own.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        try:
            self._submit(self._lifespan.shutdown()).result(timeout=STOP_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._stop_loop)
            self._thread.join(timeout=STOP_TIMEOUT)
            if not self._thread.is_alive():
                self._loop.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def runtime(self) -> Runtime:
        """The running engine (store, models, service), once started."""
        self.wait_started()
        runtime: Runtime = self._app.state.runtime
        return runtime

    # --- requests ----------------------------------------------------------------------------------

    def dispatch(self, request: httpx.Request) -> concurrent.futures.Future[httpx.Response]:
        """Run ``request`` (its body already read) on the engine's loop."""
        if self._closed:
            raise httpx.ConnectError("the embedded memhub engine is closed", request=request)
        return self._submit(self._handle(request))

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        if self._secret is None:
            raise httpx.ConnectError("the embedded memhub engine did not start", request=request)
        request.headers["Authorization"] = f"Bearer {self._secret}"
        return await call_app(self._app, request)


def embedded_key(service: MemoryService, data_dir: Path) -> str:
    """The embedded engine's key for tenant ``default``: reused from ``<data>/embedded-key`` if still
    valid, else created (and stored there). Keeping it avoids minting a new key on every start."""
    path = data_dir / KEY_FILE
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        try:
            if service.authenticate(secret).name == DEFAULT_TENANT:
                return secret
        except Unauthenticated:
            log.info("stored embedded key is no longer valid; creating a new one")
    # The library's caller owns the folder: its key is an admin, like the one ``serve`` prints.
    _, secret = service.create_api_key(DEFAULT_TENANT, name=EMBEDDED_KEY_NAME, role="admin")
    write_secret_file(path, secret)
    return secret


def _read_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("read")


class EmbeddedTransport(httpx.BaseTransport):
    """Sync httpx transport into an :class:`EmbeddedEngine`; closing it stops the engine."""

    def __init__(self, engine: EmbeddedEngine) -> None:
        self.engine = engine

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.engine.wait_started()
        future = self.engine.dispatch(request)
        try:
            return future.result(timeout=_read_timeout(request))
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise httpx.ReadTimeout("the embedded engine did not answer in time", request=request) from None

    def close(self) -> None:
        self.engine.close()


class AsyncEmbeddedTransport(httpx.AsyncBaseTransport):
    """Async (asyncio) httpx transport into an :class:`EmbeddedEngine`; closing it stops the engine."""

    def __init__(self, engine: EmbeddedEngine) -> None:
        self.engine = engine

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        await asyncio.wrap_future(self.engine.started)
        future = self.engine.dispatch(request)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), _read_timeout(request))
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout("the embedded engine did not answer in time", request=request) from None

    async def aclose(self) -> None:
        await _in_thread(self.engine.close)


async def _in_thread(func: Callable[[], None]) -> None:
    """Run a blocking call without blocking the caller's loop."""
    await asyncio.get_running_loop().run_in_executor(None, func)
