"""What every client of an OpenAI-compatible HTTP API in the pipeline shares.

The embedder (``embedders/openai_http.py``) and the chat client (``llm/chat.py``) talk to the same kind
of servers (OpenAI, Ollama, vLLM, llama.cpp, LM Studio...) and must behave the same way when those fail:

* **retry only where retrying can help**: connection errors, timeouts, 408/409/429 and 5xx;
* **back off exponentially**, honouring a short ``Retry-After``;
* **never leak the API key**: endpoints are named without credentials, and a server's error text is
  quoted only after the key is removed from it (some servers echo the key they were sent).
"""

from __future__ import annotations

import math

import httpx

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
