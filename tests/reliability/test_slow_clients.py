"""Slow clients against a real ``memhub serve``, with raw sockets on loopback.

Connections that sent half a body used to be held for as long as the client liked, before any key was
checked, and a connection that sent half its headers was held forever. Now a body has
``MEMHUB_BODY_TIMEOUT`` seconds to arrive (then 408 in the door's shape, and the connection is closed),
headers ``MEMHUB_HEADER_TIMEOUT`` seconds (then the connection is closed), and above
``MEMHUB_MAX_CONNECTIONS`` new requests are answered 503; well-behaved clients are served throughout.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from support.polling import poll_until
from support.server import ServerHandle, StartServer

WAIT = 60.0  # how long a test waits for the server to act, far above the 2 s limits it is given
BODY = b'{"messages": [{"role": "user", "content": "' + b"x" * 2000 + b'"}], "user_id": "slow"}'


@pytest.fixture
def server(start_server: StartServer) -> ServerHandle:
    return start_server(body_timeout=2, header_timeout=2, max_connections=30)


def _address(server: ServerHandle) -> tuple[str, int]:
    url = httpx.URL(server.base_url)
    assert url.host == "127.0.0.1" and url.port is not None
    return url.host, url.port


@contextmanager
def connections(server: ServerHandle, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    """``count`` sockets that each sent ``first_bytes`` and then nothing more."""
    with ExitStack() as stack:
        opened = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(_address(server), timeout=WAIT))
            sock.sendall(first_bytes)
            opened.append(sock)
        yield opened


def answer_and_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket timeout: ``WAIT``)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def half_body_request(server: ServerHandle, path: str, headers: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {server.api_key}\r\n{headers}Content-Length: {len(BODY)}\r\n\r\n"
    )
    return head.encode() + BODY[: len(BODY) // 2]


def test_half_sent_bodies_get_a_408_and_are_closed(server: ServerHandle) -> None:
    with connections(server, 20, half_body_request(server, "/v1/memories")) as held:
        with server.client() as http:  # meanwhile a well-behaved client is served
            assert http.get("/v1/info").status_code == 200
        answers = [answer_and_close(sock) for sock in held]
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"MEMHUB_BODY_TIMEOUT" in answer and b'"error"' in answer  # the native envelope
    with server.client() as http:
        assert http.get("/v1/memories", params={"user_id": "slow"}).json()["items"] == []


def test_a_408_comes_in_the_doors_own_shape(server: ServerHandle) -> None:
    request = half_body_request(server, "/goodmem/v1/spaces")
    with connections(server, 1, request) as (sock,):
        answer = answer_and_close(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b'"code"' in answer and b'"error"' not in answer


def test_half_sent_headers_are_closed(server: ServerHandle) -> None:
    with connections(server, 20, b"POST /v1/memories HTTP/1.1\r\nHost: 127.0.0.1\r\n") as held:
        answers = [answer_and_close(sock) for sock in held]
    assert answers == [b""] * 20  # closed without an answer: no request was ever made


def test_connections_over_the_limit_get_503_until_the_stuck_ones_are_closed(server: ServerHandle) -> None:
    with connections(server, 30, b"GET /v1/info HTTP/1.1\r\n"):  # the limit, all stuck in their headers
        with socket.create_connection(_address(server), timeout=WAIT) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert answer_and_close(sock).startswith(b"HTTP/1.1 503")
        with server.client() as http:  # the server closes the stuck ones itself
            poll_until(lambda: http.get("/health").status_code == 200, timeout=WAIT, message="still 503")
