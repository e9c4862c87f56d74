"""Input every door must refuse before a route sees it: text the stores cannot hold, numbers JSON has not.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` as floats that no JSON writer may emit back
(a store then holds invalid JSON), turns ``"\\ud800"`` (or raw surrogate bytes) into a lone surrogate that
cannot be encoded as UTF-8, and keeps ``"\\u0000"``, which PostgreSQL's ``text`` and ``jsonb`` refuse. Each
of these used to reach a store or a hash and end in a 500. :class:`InputGuardMiddleware` reads every JSON
body (and URL-encoded form) once, checks every string (keys too) and number in it, and answers 400 (not
JSON: ``NaN``/``Infinity``) or 422 (a string with NUL or a lone surrogate, naming where) in the door's own
error shape, before authentication or any route runs. The same rules apply to the path and the query
string (``%00``). :func:`check_value` is the same check for JSON that arrives inside another body (the
JSON part of a multipart upload).
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memhub.core.errors import InvalidInput

from .errors import MALFORMED_JSON, ApiError, ErrorRenderers

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NUL_MESSAGE = "text must not contain NUL (\\u0000) characters"
SURROGATE_MESSAGE = "text must be valid Unicode: it contains an unpaired surrogate (such as \\ud800)"


class NotJsonNumber(ValueError):
    """``NaN``, ``Infinity`` or a number too large for a double: not something JSON can carry."""


def _constant(name: str) -> Any:
    raise NotJsonNumber(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJsonNumber(f"{text} is too large for a JSON number")
    return value


def loads(data: bytes | str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity``/overflowing numbers (:class:`NotJsonNumber`)."""
    return json.loads(data, parse_constant=_constant, parse_float=_float)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def find_problem(value: Any, where: str = "") -> tuple[str, str] | None:
    """``(location, reason)`` of the first string (key or value) or number that cannot be stored."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return path, problem
        elif isinstance(item, float) and not math.isfinite(item):
            return path, "numbers must be finite (no NaN or Infinity)"
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(str(key))
                if problem:
                    return path, f"a key: {problem}"
                stack.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(item))
    return None


def check_value(value: Any, where: str = "") -> None:
    """:class:`InvalidInput` (422) naming the first string or number in ``value`` a store cannot hold."""
    found = find_problem(value, where)
    if found:
        raise InvalidInput(f"{found[0] or 'body'}: {found[1]}", details={"loc": found[0]})


def check_body(content_type: str, body: bytes) -> ApiError | None:
    """The error for a JSON or form body holding what no store can hold, or None (also for non-JSON)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _check_form(body)
    if not (_is_json_type(kind) or (kind in ("", "text/plain") and body.lstrip()[:1] in (b"{", b"["))):
        return None
    return _check_parsed(body)


def _needs_walk(body: bytes) -> bool:
    """Only ``\\u`` escapes or surrogate bytes (which ``json`` lets through) make NUL or surrogates."""
    if b"\\u" in body:
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _check_parsed(body: bytes) -> ApiError | None:
    try:
        value = loads(body)
    except NotJsonNumber as exc:
        return ApiError(400, MALFORMED_JSON, f"request body is not valid JSON: {exc}", {})
    except (ValueError, RecursionError):
        return None  # not JSON at all: the route answers that in its own words
    found = find_problem(value) if _needs_walk(body) else None
    if found is None:
        return None
    location, reason = found
    fields = [{"loc": f"body.{location}" if location else "body", "message": reason, "type": "value_error"}]
    return ApiError(422, InvalidInput.code, f"{location or 'body'}: {reason}", {"fields": fields})


def _check_form(body: bytes) -> ApiError | None:
    for pair in body.split(b"&"):
        raw = unquote_to_bytes(pair.replace(b"+", b" "))
        if b"\x00" in raw:
            name = raw.split(b"=", 1)[0].decode("utf-8", errors="replace")
            return ApiError(422, InvalidInput.code, f"{name}: {NUL_MESSAGE}", {})
    return None


def _is_json_type(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def check_url(scope: Scope) -> ApiError | None:
    """A NUL in the path or the query string (``%00``), which no id, name or filter may hold."""
    query: bytes = scope.get("query_string", b"")
    if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
        return ApiError(422, InvalidInput.code, f"the URL: {NUL_MESSAGE}", {})
    return None


class InputGuardMiddleware:
    """Refuse JSON/form bodies, paths and query strings holding what no store can hold (see module)."""

    def __init__(self, app: ASGIApp, renderers: ErrorRenderers) -> None:
        self.app = app
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = check_url(scope)
        if error is not None:
            await self.renderers.render(scope["path"], error)(scope, receive, send)
            return
        content_type = _header(scope, b"content-type")
        if scope["method"] not in _BODY_METHODS or content_type.lower().startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        if body is None:  # the client went away
            await self.app(scope, _replay(messages, receive), send)
            return
        error = check_body(content_type, body)
        if error is not None:
            await self.renderers.render(scope["path"], error)(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    messages: list[Message] = []
    parts: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            body = b"".join(parts)
            return body, [{"type": "http.request", "body": body, "more_body": False}]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
