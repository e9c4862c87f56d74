"""One httpx request answered by an ASGI app in the same process: the embedded engine's wire.

Why not ``httpx.ASGITransport``: it is built for tests and pays for generality on every call (it
converts the request and response twice, and probes for trio with a failing ``import sniffio`` each
time), a tenth of a whole search's CPU (``docs/decisions/embedded-asgi-wire.md``). The engine needs
none of that generality: the body is already read, the response is buffered, and everything runs on
the engine's own asyncio loop.

What matches a real server: the ASGI scope carries the method, path, query string and headers as
uvicorn would pass them, and an app that fails before answering gives a bare 500 (after answering,
what it sent stands), so the embedded client sees what a remote one would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

Message = dict[str, Any]

SERVER = ("memhub.embedded", 80)
CLIENT = ("127.0.0.1", 0)


def http_scope(request: httpx.Request) -> dict[str, Any]:
    """The ASGI HTTP scope for ``request``, as a server would build it."""
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "client": CLIENT,
        "server": SERVER,
        "state": {},
    }


async def call_app(app: Any, request: httpx.Request) -> httpx.Response:
    """Run ``app`` for ``request`` (its body already read) and buffer the whole response."""
    body = request.content
    sent_body = False
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    parts: list[bytes] = []
    complete = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        # The client stays until the whole response is in (a streaming response listens for a
        # disconnect while it streams, and must not hear one early).
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                complete.set()

    try:
        await app(http_scope(request), receive, send)
    except Exception:
        complete.set()
        if status is None:  # failed before answering: what a server sends for an unhandled error
            return httpx.Response(500, request=request)
        # after answering: the response already sent stands, as it would on the wire
    return httpx.Response(status or 500, headers=headers, content=b"".join(parts), request=request)
