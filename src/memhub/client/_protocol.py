"""The sans-I/O half of the SDK: what to send, and what an answer means.

Nothing here performs I/O or awaits, so the async client (``_async/``) and its generated sync twin
(``_sync/``) share it verbatim: request building, error mapping, response parsing and the retry
decision (``_retry.py``) exist once. The I/O halves only move bytes and sleep.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import GenericAlias
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from memhub._version import __version__

from ._retry import parse_retry_after
from .errors import (
    STATUS_ERRORS,
    APIConnectionError,
    APITimeoutError,
    InvalidResponseError,
    MemhubAPIError,
    RateLimitError,
)

T = TypeVar("T")

USER_AGENT = f"memhub-python/{__version__}"
DEFAULT_BASE_URL = "http://127.0.0.1:8420"
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class RequestSpec:
    """One logical request, before any attempt is made.

    ``idempotent`` says whether the server may safely see it twice; it decides which failures are
    retried (see ``_retry.RetryPolicy``).
    """

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True

    def with_params(self, **params: Any) -> RequestSpec:
        """The same request with some query parameters replaced (paging uses this for the cursor)."""
        merged = {**self.params, **clean(params)}
        return RequestSpec(self.method, self.path, merged, self.json, self.idempotent)


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values and make the rest JSON-able (models, datetimes, enums).

    Optional arguments the caller left out are *omitted* rather than sent as ``null`` so the server's
    defaults apply, exactly as if the field had not existed.
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is not None:
            out[key] = to_jsonable_python(value, exclude_none=True)
    return out


def query_value(value: Any) -> Any:
    """Query strings have no booleans: send ``true``/``false`` as the server's parser expects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def request(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    idempotent: bool = True,
) -> RequestSpec:
    """Build a :class:`RequestSpec`; ``body`` mappings are cleaned of ``None`` values."""
    query = {k: query_value(v) for k, v in clean(params or {}).items()}
    payload = clean(body) if isinstance(body, Mapping) else to_jsonable_python(body)
    return RequestSpec(method, path, query, payload, idempotent)


def path(prefix: str, *segments: str) -> str:
    """``prefix`` plus each id as one percent-encoded path segment (ids may hold ``/`` or spaces)."""
    if any(not segment for segment in segments):
        raise ValueError(f"an id after {prefix} is empty")
    return "/".join([prefix, *(quote(segment, safe="") for segment in segments)])


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


# -------------------------------------------------------------------------------------------------
# answers


def error_from_response(response: httpx.Response) -> MemhubAPIError | None:
    """The exception an answer stands for, or None for a success status."""
    if response.is_success:
        return None
    code, message, details = _error_fields(response)
    kw: dict[str, Any] = {"status": response.status_code, "code": code, "details": details}
    cls = STATUS_ERRORS.get(response.status_code, MemhubAPIError)
    if cls is RateLimitError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
        return RateLimitError(message, retry_after=retry_after, response=response, **kw)
    return cls(message, response=response, **kw)


def _error_fields(response: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    """``(code, message, details)`` from the documented error body, or a fallback for foreign bodies."""
    fallback: tuple[str, str, dict[str, Any]] = (
        f"http_{response.status_code}",
        response.reason_phrase or "error",
        {},
    )
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:500]
        return (fallback[0], text or fallback[1], {})
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return fallback
    details = error.get("details")
    return (
        str(error.get("code") or fallback[0]),
        str(error.get("message") or fallback[1]),
        details if isinstance(details, dict) else {"details": details} if details is not None else {},
    )


def transport_error(exc: httpx.TransportError) -> APIConnectionError:
    """Map httpx's transport failures onto the SDK's two connection errors.

    Connect failures (and waiting for a pooled connection) happen before the request is written, so
    they are marked ``request_sent=False``: those are safe to retry for any request.
    """
    unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    where = _server_of(exc)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request to {where} timed out ({message})", request_sent=not unsent)
    if isinstance(exc, httpx.ConnectError) and where != EMBEDDED_HOST:
        return APIConnectionError(
            f"connection to {where} failed ({message}): is a memhub server running there? "
            "Start one with `memhub serve`, or check the URL",
            request_sent=False,
        )
    return APIConnectionError(f"connection to {where} failed ({message})", request_sent=not unsent)


EMBEDDED_HOST = "http://memhub.embedded"  # the embedded engine's base URL: there is no server to start


def _server_of(exc: httpx.TransportError) -> str:
    """The scheme, host and port the failed request went to (never its path or query: no content)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return "the server"
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def decode(response: httpx.Response) -> Any:
    """The JSON body of a success answer (None for 204 No Content)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise InvalidResponseError(
            f"expected JSON from {response.request.method} {response.request.url.path}, got "
            f"{response.headers.get('content-type', 'no content type')}",
            response=response,
        ) from exc


@functools.cache
def _adapter(type_: Any) -> TypeAdapter[Any]:
    """Validators are built on first use and shared (by the sync and async clients alike): building
    one per model at import time would make ``import memhub`` noticeably slower."""
    return TypeAdapter(type_)


def parse_list(item: type[T], data: Any, response: httpx.Response | None = None) -> list[T]:
    """:func:`parse` for a JSON array of ``item``."""
    result: list[T] = parse(GenericAlias(list, (item,)), data, response)  # type: ignore[arg-type]
    return result


def parse(type_: type[T], data: Any, response: httpx.Response | None = None) -> T:
    """Validate ``data`` into the SDK's type, turning a mismatch into :class:`InvalidResponseError`."""
    try:
        result: T = _adapter(cast(Any, type_)).validate_python(data)
        return result
    except ValidationError as exc:
        raise InvalidResponseError(
            f"the server's answer does not have the expected shape ({exc.error_count()} error(s)): {exc}",
            response=response,
        ) from exc


def field_of(data: Any, name: str, response: httpx.Response | None = None) -> Any:
    """``data[name]`` of an object answer, or :class:`InvalidResponseError`."""
    if not isinstance(data, dict) or name not in data:
        raise InvalidResponseError(f"expected an object with {name!r} in the answer", response=response)
    return data[name]


# -------------------------------------------------------------------------------------------------
# waiting for jobs


class Deadline:
    """A monotonic deadline; ``None`` timeout means never."""

    def __init__(self, timeout: float | None) -> None:
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - time.monotonic())


def poll_delays(first: float = 0.05, factor: float = 1.5, ceiling: float = 1.0) -> Iterator[float]:
    """Delays between job polls: quick at first (most jobs take milliseconds), then every second."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, ceiling)


def messages_body(messages: str | Sequence[Any]) -> list[Any]:
    """Messages as the server takes them; a bare string is one ``user`` message (the common case)."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [to_jsonable_python(m, exclude_none=True) for m in messages]
