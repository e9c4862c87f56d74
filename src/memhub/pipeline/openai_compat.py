"""What every client of an OpenAI-compatible HTTP API in the pipeline shares.

The embedder (``embedders/openai_http.py``), the chat client (``llm/chat.py``) and the HTTP reranker
(``rerankers/http.py``) talk to the same kind of servers (OpenAI, Ollama, vLLM, llama.cpp, LM
Studio...) and must behave the same way when those fail, so they share one retry loop
(:func:`post_with_retries`):

* **retry only where retrying can help**: connection errors, timeouts, 408/409/429 and 5xx;
* **back off exponentially**, honouring a short ``Retry-After``;
* **never leak the API key**: endpoints are named without credentials, and a server's error text is
  quoted only after the key is removed from it (some servers echo the key they were sent).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from memhub.core.errors import Unavailable

RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
MAX_BACKOFF = 8.0  # seconds between two attempts, at most
ERROR_SNIPPET = 200  # characters of a server's error text quoted in a message


def endpoint(base_url: str, path: str) -> tuple[httpx.URL, str]:
    """``(url, where)``: the URL of ``path`` under ``base_url``, and how to name it in messages and logs.

    ``where`` has no user, password, query or fragment. Raises ``ValueError`` for a non-http(s) URL.
    """
    url = httpx.URL(base_url.rstrip("/") + path)
    if url.scheme not in ("http", "https"):
        raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
    return url, str(url.copy_with(username=None, password=None, query=None, fragment=None))


@dataclass(frozen=True)
class Target:
    """An endpoint as the retry loop names it: ``kind`` ("embedding", "chat"...) and ``where`` go into
    messages and logs, ``details`` into the error; ``log`` is the caller's logger."""

    kind: str
    where: str
    api_key: str | None
    max_retries: int
    backoff: float
    log: logging.Logger
    details: dict[str, Any] = field(default_factory=dict)


def post_with_retries(
    client: httpx.Client,
    url: httpx.URL,
    payload: dict[str, Any],
    endpoint: Target,
    *,
    timeout: float | None = None,
) -> httpx.Response:
    """The first answer not worth retrying (a success or a client error), else :class:`Unavailable`
    once ``endpoint.max_retries`` retries of connection errors and retryable statuses are spent."""
    options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    attempt = 0
    while True:
        try:
            response = client.post(url, json=payload, **options)
        except httpx.TransportError as exc:
            failure = f"cannot reach it ({type(exc).__name__}: {scrub(str(exc), endpoint.api_key)})"
            after = None
            details = endpoint.details
        else:
            if not retryable(response.status_code):
                return response
            failure = f"it answered HTTP {response.status_code}"
            after = retry_after(response)
            details = {**endpoint.details, "status": response.status_code}
        if attempt >= endpoint.max_retries:
            tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
            raise Unavailable(
                f"{endpoint.kind} endpoint {endpoint.where} failed after {tries}: {failure}",
                details=details,
            )
        delay = backoff_delay(endpoint.backoff, attempt, after)
        endpoint.log.warning(
            "%s endpoint %s: %s; retrying in %.2fs", endpoint.kind, endpoint.where, failure, delay
        )
        time.sleep(delay)
        attempt += 1


def retryable(status: int) -> bool:
    return status >= 500 or status in RETRY_STATUSES


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds, if it is a finite non-negative number."""
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def backoff_delay(backoff: float, attempt: int, after: float | None) -> float:
    """Seconds to wait before retry ``attempt + 1``: doubling from ``backoff``, at least ``after``."""
    delay = min(backoff * 2.0**attempt, MAX_BACKOFF)
    if after is not None:
        delay = max(delay, min(after, MAX_BACKOFF))
    return delay


def error_text(response: httpx.Response, secret: str | None) -> str:
    """The server's own error message (OpenAI's ``{"error": {"message": ...}}``), key removed, shortened."""
    try:
        body = response.json()
    except ValueError:
        text = response.text
    else:
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        text = message if isinstance(message, str) else ""
    return scrub(text, secret)


def scrub(text: str, secret: str | None) -> str:
    """``text`` on one line, without ``secret``, at most ``ERROR_SNIPPET`` characters."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text[:ERROR_SNIPPET] + ("…" if len(text) > ERROR_SNIPPET else "")


def rejection(status: int, response: httpx.Response, secret: str | None) -> str:
    """Why a non-retryable answer was refused, safe to show: for 401/403 the server's text is not quoted."""
    if status in (401, 403):
        return f"HTTP {status}: " + ("the API key was rejected" if secret else "an API key is needed")
    reason = error_text(response, secret)
    return f"HTTP {status}: {reason}" if reason else f"HTTP {status}"
