"""Every error the HTTP server answers, in one shape, from one table.

Whatever goes wrong — a core error raised by the service, a body FastAPI could not validate, malformed
JSON, an unknown route, a body over the size limit, a bug — is first normalised into an :class:`ApiError`
(status, code, message, details, headers) and then rendered. The native API renders the envelope::

    {"error": {"code": "not_found", "message": "...", "details": {...}}}

Protocol adapters mounted under their own prefix may register their own renderer (their clients expect
their product's error shape); the *status* is still decided here, so every door agrees on what a
``NotFound`` or a ``LimitExceeded`` means.

Status choices (pinned by ``tests/api/test_errors.py``):

* A well-formed body whose values are wrong is **422** — both pydantic's validation errors and the
  service's :class:`InvalidInput`, so clients see one status for "fix this value".
* A body that is not JSON at all is **400** (``malformed_json``).
* :class:`LimitExceeded` is **413** like a body over ``max_body_bytes``: both say "send less".
* Another tenant's objects are **404**, never 403: the store reports them as missing, so ids can't be probed.
"""

from __future__ import annotations

import http
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from memhub.core.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    MemhubError,
    ModelRetired,
    NotFound,
    NotSupported,
    PermissionDenied,
    RateLimited,
    StorageFull,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("memhub.api")

STATUS_BY_ERROR: dict[type[MemhubError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    PermissionDenied: 403,
    LimitExceeded: 413,
    RateLimited: 429,
    StorageFull: 507,
    Unavailable: 503,
    ModelRetired: 503,  # a server on a model `memhub reindex` retired: restarting it fixes it
    NotSupported: 501,
}
"""Core error class → HTTP status. Subclasses inherit their base's status; anything unlisted is a 500."""

# Codes for errors that do not come from the core (HTTP-level problems).
MALFORMED_JSON = "malformed_json"
INTERNAL = "internal"


@dataclass(frozen=True)
class ApiError:
    """An error ready to be rendered in any protocol's shape."""

    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


ErrorRenderer = Callable[[ApiError], Response]
"""Turns an :class:`ApiError` into a response; protocol adapters may supply their own."""


def render_envelope(error: ApiError) -> Response:
    """The native shape: ``{"error": {"code", "message", "details"}}``."""
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


class ErrorRenderers:
    """Which renderer answers for which path prefix (longest prefix wins; the envelope by default)."""

    def __init__(self, default: ErrorRenderer = render_envelope) -> None:
        self._default = default
        self._by_prefix: dict[str, ErrorRenderer] = {}

    def register(self, prefix: str, renderer: ErrorRenderer) -> None:
        self._by_prefix[prefix.rstrip("/")] = renderer

    def for_path(self, path: str) -> ErrorRenderer:
        best = ""
        for prefix in self._by_prefix:
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > len(best):
                best = prefix
        return self._by_prefix[best] if best else self._default

    def render(self, path: str, error: ApiError) -> Response:
        return self.for_path(path)(error)


# ---------------------------------------------------------------------------------------------------
# normalisation


def status_for(error_class: type[MemhubError]) -> int:
    """The status of a core error class, walking up its bases (so subclasses need no entry)."""
    for klass in error_class.__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[klass]
    return 500


def from_core_error(exc: MemhubError) -> ApiError:
    status = status_for(type(exc))
    if status == 500:
        return internal_error()
    headers: dict[str, str] = {}
    if isinstance(exc, (RateLimited, Unavailable)):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return ApiError(status, exc.code, exc.message, dict(exc.details), headers)


def from_validation_error(errors: Sequence[Any]) -> ApiError:
    """FastAPI's 422 as the envelope: one entry per field. Input values are never echoed back."""
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = first.get("ctx", {}).get("error", "invalid JSON")
        position = first["loc"][-1] if first.get("loc") else None
        return ApiError(
            400, MALFORMED_JSON, f"request body is not valid JSON: {reason}", {"position": position}
        )
    fields = [
        {
            "loc": ".".join(str(p) for p in e.get("loc", ())),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors
    ]
    message = f"{fields[0]['loc']}: {fields[0]['message']}" if fields else "invalid request"
    if len(fields) > 1:
        message += f" (and {len(fields) - 1} more)"
    return ApiError(422, InvalidInput.code, message, {"fields": fields})


_LOCATIONS = frozenset({"body", "query", "path", "header"})


def field_sentence(field: Mapping[str, Any]) -> str:
    """One entry of a validation error's ``fields`` as a sentence for protocols whose clients show a
    single message: ``body.user_id`` + ``missing`` → ``user_id is required``; else ``where: message``."""
    head, _, rest = str(field.get("loc", "")).partition(".")
    where = rest if head in _LOCATIONS else str(field.get("loc", ""))
    if field.get("type") == "missing":
        return f"{where} is required"
    message = str(field.get("message", "invalid value"))
    return f"{where}: {message}" if where else message


_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type", "list_type"}


def explain_content_type(error: ApiError, headers: Mapping[str, str]) -> ApiError:
    """A body sent without ``Content-Type: application/json`` is read as bytes, not JSON.

    pydantic then says "Input should be a valid dictionary", which names the symptom, not the fix; this
    says which header is missing. Other validation errors are returned unchanged.
    """
    content_type = headers.get("content-type", "")[:100]
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    fields = error.details.get("fields") or []
    # the whole body (loc "body", not a form field such as "body.metadata") was not an object
    wrong_shape = any(f.get("loc") == "body" and f.get("type") in _NOT_AN_OBJECT for f in fields)
    form = content_type.lower().startswith(("multipart/", "application/x-www-form-urlencoded"))
    if error.status != 422 or "json" in content_type.lower() or form or not has_body or not wrong_shape:
        return error
    sent = f"'Content-Type: {content_type}'" if content_type else "no Content-Type header"
    message = f"the body was not read as JSON ({sent}): send the header 'Content-Type: application/json'"
    hinted = [
        {**f, "message": message} if f.get("loc") == "body" and f.get("type") in _NOT_AN_OBJECT else f
        for f in fields
    ]  # doors that show the first field (GUMem) show the hint too
    return ApiError(422, error.code, message, {**error.details, "fields": hinted}, error.headers)


def from_http_exception(exc: StarletteHTTPException, method: str, path: str) -> ApiError:
    """Routing errors (404, 405) and any HTTPException an adapter raises."""
    phrase = _phrase(exc.status_code)
    code = {404: NotFound.code, 405: "method_not_allowed", 413: LimitExceeded.code}.get(
        exc.status_code, phrase.lower().replace(" ", "_").replace("-", "_")
    )
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and detail == phrase and headers.get("Allow"):
        allowed = sorted(m.strip() for m in headers["Allow"].split(","))
        return method_not_allowed(method, path, allowed)
    message = f"{phrase}: {method} {path}" if detail == phrase and exc.status_code in (404, 405) else detail
    return ApiError(exc.status_code, code, message, {}, headers)


def method_not_allowed(method: str, path: str, allowed: Sequence[str]) -> ApiError:
    """405 naming the methods the path does serve (also in ``Allow``, as HTTP asks)."""
    methods = ", ".join(allowed)
    return ApiError(
        405,
        "method_not_allowed",
        f"{method} is not allowed on {path}; use {methods}",
        {"allowed": list(allowed)},
        {"Allow": methods},
    )


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413, LimitExceeded.code, f"request body is larger than {limit} bytes", {"max_body_bytes": limit}
    )


def internal_error() -> ApiError:
    """Deliberately generic: the cause is in the server log (with trace), never in the response."""
    return ApiError(500, INTERNAL, "internal server error; the server log has the details")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------------------------------------------
# wiring


def install_error_handlers(app: FastAPI, renderers: ErrorRenderers) -> None:
    """Route core errors, validation errors and HTTP exceptions through :class:`ErrorRenderers`.

    Unexpected exceptions are not handled here but by the outermost middleware
    (``middleware.RequestLogMiddleware``), which logs the trace once and answers a generic 500.
    """

    async def core_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MemhubError)
        error = from_core_error(exc)
        if error.status == 500:
            log.error("unmapped core error %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return renderers.render(request.url.path, error)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        error = explain_content_type(from_validation_error(exc.errors()), request.headers)
        return renderers.render(request.url.path, error)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error = from_http_exception(exc, request.method, request.url.path)
        return renderers.render(request.url.path, error)

    async def unencodable(request: Request, exc: Exception) -> Response:
        # the input guard refuses these at the edge; this catches text that got past it some other way
        error = from_core_error(InvalidInput("text must be valid Unicode (an unpaired surrogate was sent)"))
        return renderers.render(request.url.path, error)

    app.add_exception_handler(UnicodeEncodeError, unencodable)
    app.add_exception_handler(MemhubError, core_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
