"""The protocol-adapter interface: what a door into memhub provides, and how the app mounts it.

A *door* serves another memory product's wire protocol, so that product's own SDK works against memhub.
It is a package ``memhub/api/compat/<product>/`` that translates only: parse the foreign request, call
``MemoryService``, serialise the answer (errors included) in the foreign shape. No SQL, no ranking, no
concrete backend: what a door needs from the runtime it gets from ``MemoryService`` or ``Runtime``.

Each door declares one :class:`ProtocolAdapter`; the app mounts every adapter listed in
``memhub/api/compat/doors.py`` (:data:`~memhub.api.compat.doors.ADAPTERS`), in that order.

How to add a door (``mem0`` as the example):

1. ``memhub/settings.py``: add ``mem0_prefix: str = Field("/mem0", description=...)``. The default
   prefix is written there and nowhere else; :func:`mount_prefix` reads it.
2. ``memhub/api/compat/mem0/``: the routes in ``routes.py``
   (``def create_router(settings: Settings) -> APIRouter``, paths relative to the prefix), the
   product's error body in ``render_error(error: ApiError) -> Response``, and build the router with
   ``APIRouter(route_class=error_route(render_error, name="mem0"))`` so an error raised inside a handler
   (validation, core errors, ``HTTPException``) is answered in that shape too; the app's per-prefix
   renderer covers the rest (unknown paths, 413, 500 before a route is reached).
3. ``memhub/api/compat/mem0/__init__.py``::

       ADAPTER = ProtocolAdapter(
           name="mem0", prefix_setting="mem0_prefix", create_router=create_router, render_error=render_error
       )

4. ``memhub/api/compat/doors.py``: one line, ``mem0.ADAPTER,`` in :data:`ADAPTERS` (plus its import).
5. Tests: a case per new route in ``tests/support/isolation_routes.py`` (tenant isolation is checked
   for every route of every door), and the product's real SDK against a real server in
   ``tests/compat/``.

Statuses are never a door's choice: ``api/errors.py`` maps every error to one :class:`ApiError`, and a
door only chooses how it looks on the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from memhub.api.errors import (
    ApiError,
    ErrorRenderer,
    explain_content_type,
    from_core_error,
    from_http_exception,
    from_validation_error,
)
from memhub.core.errors import InvalidInput, MemhubError
from memhub.settings import Settings

RouterFactory = Callable[[Settings], APIRouter]
"""Builds a door's routes (paths relative to its prefix) from the settings."""

Translate = Callable[[Exception], "ApiError | None"]
"""A door's own exceptions → :class:`ApiError` (None: not one of its own)."""


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class ProtocolAdapter:
    """One door: where it is mounted, what it serves there, and how its errors look."""

    name: str
    """The product's name, lower case: the package name and the logger suffix."""
    prefix_setting: str
    """The ``Settings`` field holding the URL prefix (its default is written there, once)."""
    create_router: RouterFactory
    render_error: ErrorRenderer
    """The product's error body; the status comes from ``api/errors.py``."""
    enabled: Callable[[Settings], bool] = _always
    """Whether the settings switch the door on (GoMemory: only with a tenant to serve)."""
    announce: Callable[[Settings], str] | None = None
    """For a door that is off unless configured: the start-up log line saying it is on, and how."""
    off_hint: str | None = None
    """For such a door: what its prefix answers (a 404 in its error shape) while it is off."""


def mount_prefix(adapter: ProtocolAdapter, settings: Settings) -> str | None:
    """The adapter's prefix as ``/name`` (no trailing slash), or None when its settings switch it off.

    Never the root: a door's error shape would then answer for every path of the server.
    """
    if not adapter.enabled(settings):
        return None
    return configured_prefix(adapter, settings)


def configured_prefix(adapter: ProtocolAdapter, settings: Settings) -> str:
    """The adapter's prefix setting as ``/name``, whether or not the door is on."""
    prefix = "/" + str(getattr(settings, adapter.prefix_setting)).strip().strip("/")
    if prefix == "/":
        default = type(settings).model_fields[adapter.prefix_setting].default
        raise InvalidInput(f"{adapter.prefix_setting} must name a path such as {default}, not the root")
    return prefix


def off_renderer(adapter: ProtocolAdapter) -> ErrorRenderer:
    """The door's error shape with its ``off_hint`` as the message of every 404 under its prefix."""

    def render(error: ApiError) -> Response:
        if error.status == 404 and adapter.off_hint:
            error = ApiError(404, error.code, adapter.off_hint, {}, error.headers)
        return adapter.render_error(error)

    return render


def to_api_error(exc: Exception, request: Request, log: logging.Logger) -> ApiError | None:
    """The :class:`ApiError` of an exception a route may raise; None for a real bug."""
    if isinstance(exc, (RequestValidationError, ValidationError)):
        return explain_content_type(from_validation_error(exc.errors()), request.headers)
    if isinstance(exc, StarletteHTTPException):
        return from_http_exception(exc, request.method, request.url.path)
    if isinstance(exc, MemhubError):
        error = from_core_error(exc)
        if error.status == 500:
            log.error("unmapped core error %s on %s", type(exc).__name__, request.url.path)
        return error
    return None


def error_route(
    render: ErrorRenderer,
    *,
    name: str,
    translate: Translate | None = None,
    internal: Callable[[str], ApiError] | None = None,
) -> type[APIRoute]:
    """A route class whose errors are rendered by ``render``, never in the native envelope.

    FastAPI's exception handlers are app-wide, so a door's routes catch their own errors. ``translate``
    maps the door's own exception types first. ``internal`` (given the route's name) is the answer to a
    bug or an unmapped core error when the protocol names its own 500 text; without it a bug propagates
    to the app's outermost middleware, which logs the trace and answers a generic 500.
    """
    log = logging.getLogger(f"memhub.api.{name}")

    class ErrorRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()
            route_name = self.name

            async def guarded(request: Request) -> Response:
                try:
                    return await handle(request)
                except Exception as exc:
                    error = (translate(exc) if translate else None) or to_api_error(exc, request, log)
                    if error is not None and (error.status != 500 or internal is None):
                        return render(error)
                    if internal is None:
                        raise
                    if error is None:
                        log.exception("unhandled error on %s %s", request.method, request.url.path)
                    return render(internal(route_name))

            return guarded

    ErrorRoute.__name__ = ErrorRoute.__qualname__ = f"{name.capitalize()}Route"
    return ErrorRoute
