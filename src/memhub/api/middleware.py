"""Pure-ASGI middleware: the request log with the last-resort 500, and the request body size limit.

They are plain ASGI callables rather than ``BaseHTTPMiddleware`` so they cost little, never buffer a
body, and see every request — including the ones that end in 404, 405 or 413 before any route runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ErrorRenderers, body_too_large, internal_error, method_not_allowed
from .route_template import route_template

access_log = logging.getLogger("memhub.access")
error_log = logging.getLogger("memhub.api")


class RequestLogMiddleware:
    """One INFO line per request (method, route, status, duration), and a 500 for unexpected errors.

    The route is logged as its template (``GET /v1/users/{user_id}``, see ``route_template.py``) — not the
    raw path, no query string, headers or body — because those carry user, session and memory ids, keys
    and message contents. An exception escaping the app is logged once with its trace and answered with
    the generic 500 in the caller's protocol shape; it is not re-raised (uvicorn would log it again),
    unless the response had already started, in which case the connection must be dropped.
    """

    def __init__(self, app: ASGIApp, renderers: ErrorRenderers) -> None:
        self.app = app
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:  # the one place unexpected errors become a 500 (logged with trace)
            error_log.exception("unhandled error on %s %s", scope["method"], route_template(scope))
            if state["started"]:
                raise
            response = self.renderers.render(scope["path"], internal_error())
            await response(scope, receive, send_and_watch)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            route = route_template(scope)
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                route,
                state["status"],
                duration_ms,
                extra={
                    "method": scope["method"],
                    "path": route,
                    "status": state["status"],
                    "duration_ms": round(duration_ms, 2),
                },
            )


class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with 413, declared or streamed.

    A ``Content-Length`` over the limit is refused before a byte of the body is read. A body without one
    (chunked) is counted as it streams in; once over the limit the 413 is sent, the app sees the client
    disconnect (so no route runs on a truncated body) and anything the app still tries to send is dropped.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, renderers: ErrorRenderers) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self.reject(scope, receive, send)
            return
        guard = _StreamGuard(self, scope, receive, send)
        await self.app(scope, guard.receive, guard.send)

    async def reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.renderers.render(scope["path"], body_too_large(self.max_bytes))
        response.headers["Connection"] = "close"  # the unread body makes the connection unusable
        await response(scope, receive, send)


class _StreamGuard:
    """Per-request state of :class:`BodyLimitMiddleware` for bodies it has to count."""

    def __init__(self, owner: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        self._owner = owner
        self._scope = scope
        self._receive = receive
        self._send = send
        self._received = 0
        self._tripped = False
        self._response_started = False

    async def receive(self) -> Message:
        if self._tripped:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._owner.max_bytes:
                self._tripped = True
                if not self._response_started:
                    self._response_started = True
                    await self._owner.reject(self._scope, self._receive, self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._tripped:
            return
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._send(message)


def _content_length(scope: MutableMapping[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server rejects a malformed Content-Length itself
    return None


class MethodGuardMiddleware:
    """A literal path asked with a method it does not serve is a 405 with ``Allow``, not a 404.

    Starlette takes the first route that matches path *and* method, so ``GET /v1/memories/search`` (a
    POST route) would otherwise be served by ``GET /v1/memories/{memory_id}`` and answer "memory search
    not found". A path written out in full names one endpoint; a template only guesses. The table of
    literal paths is read from the app's routes on the first request (they are all mounted by then).
    """

    def __init__(self, app: ASGIApp, renderers: ErrorRenderers) -> None:
        self.app = app
        self.renderers = renderers
        self._allowed: dict[str, set[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self._literal_paths(scope).get(scope["path"])
            method = scope["method"]
            if allowed and method not in allowed and not (method == "HEAD" and "GET" in allowed):
                error = method_not_allowed(method, scope["path"], sorted(allowed))
                await self.renderers.render(scope["path"], error)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _literal_paths(self, scope: Scope) -> dict[str, set[str]]:
        if self._allowed is None:
            table: dict[str, set[str]] = {}
            for route in _flat_routes(getattr(scope.get("app"), "routes", [])):
                methods = getattr(route, "methods", None)
                path = getattr(route, "path", "")
                if methods and path and "{" not in path:
                    table.setdefault(path, set()).update(methods)
            self._allowed = table
        return self._allowed


def _flat_routes(routes: list[Any]) -> list[Any]:
    """Every route with its full path: FastAPI ≥ 0.165 keeps included routers nested (its OpenAPI
    walks them with ``iter_route_contexts``); older versions flatten them into ``app.routes``."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return routes
    return list(iter_route_contexts(routes))
