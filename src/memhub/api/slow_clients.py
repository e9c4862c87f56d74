"""Slow clients: a request must finish arriving in bounded time, and connections are bounded in number.

Without these, 300 connections that sent half a body were each held for as long as the client liked
(20 s and more, before any key was checked: a route reads its body before its dependencies run), and a
connection that sent half its headers was held forever (uvicorn only times out *idle* keep-alive
connections, and any byte re-arms that).

* :class:`BodyTimeoutMiddleware` gives a request's body ``body_timeout`` seconds from the moment the
  request arrived; then it answers 408 (the door's error shape, ``Connection: close``) and the app sees
  the client disconnect, so no route runs on a partial body.
* :class:`HeaderTimeoutH11Protocol` (uvicorn's h11 protocol) closes a connection whose request line and
  headers have not all arrived ``header_timeout`` seconds after it opened or after its last response.
* ``max_connections`` is uvicorn's ``limit_concurrency``: above it, new requests are answered 503.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import ApiError, ErrorRenderers


class BodyTimeoutMiddleware:
    """408 when a request's body has not fully arrived ``seconds`` after the request did."""

    def __init__(self, app: ASGIApp, seconds: float, renderers: ErrorRenderers) -> None:
        self.app = app
        self.seconds = seconds
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = _BodyClock(self, scope, receive, send)
        await self.app(scope, guard.receive, guard.send)


class _BodyClock:
    def __init__(self, owner: BodyTimeoutMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        self._owner = owner
        self._scope = scope
        self._receive = receive
        self._send = send
        self._deadline = time.monotonic() + owner.seconds
        self._body_done = False
        self._expired = False
        self._response_started = False

    async def receive(self) -> Message:
        if self._expired:
            return {"type": "http.disconnect"}
        if self._body_done:
            return await self._receive()  # waiting for a disconnect while streaming a response
        message: Message | None = None
        with anyio.move_on_after(max(0.0, self._deadline - time.monotonic())):
            message = await self._receive()
        if message is None:
            self._expired = True
            if not self._response_started:
                self._response_started = True
                await self._reject()
            return {"type": "http.disconnect"}
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self._expired:
            return
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._send(message)

    async def _reject(self) -> None:
        seconds = self._owner.seconds
        error = ApiError(
            408,
            "request_timeout",
            f"the request body did not arrive within {seconds:g} s (MEMHUB_BODY_TIMEOUT)",
            {"body_timeout": seconds},
        )
        response = self._owner.renderers.render(self._scope["path"], error)
        response.headers["Connection"] = "close"
        await response(self._scope, self._receive, self._send)


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request headers arrive too slowly.

    ``header_timeout`` is set on the class by :func:`protocol_with_header_timeout` (uvicorn builds one
    protocol object per connection from the class it is given).
    """

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def handle_events(self) -> None:
        super().handle_events()
        if not self._between_requests():  # a request's headers are in
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self._between_requests():
            self._arm_header_timer()  # the next request on this connection gets its own allowance

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[HeaderTimeoutH11Protocol]:
    """The protocol class to give ``uvicorn.run(http=...)``."""
    return type("MemhubH11Protocol", (HeaderTimeoutH11Protocol,), {"header_timeout": seconds})
