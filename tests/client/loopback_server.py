"""A scripted HTTP server on loopback, for testing what the SDK does with each kind of answer.

Used through the ``script`` fixture of ``conftest.py``.

Each test queues the answers it wants (``script.reply(429, headers={"Retry-After": "1"})``,
``script.drop()`` to close the connection without answering, ``script.stall(2.0)``) and the server plays
them in order, one per request, recording what arrived and when. When the script runs out it answers
``200 {}``. It is a real socket server, so the SDK's real transport, connection pool and timeouts are
what is tested — not a mock.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0


class Script:
    """The queue of answers and the log of requests, shared with the handler threads."""

    def __init__(self) -> None:
        self._answers: list[Answer] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.base_url = ""

    def reply(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> Script:
        self._answers.append(Answer(status, {} if body is None else body, headers or {}))
        return self

    def error(self, status: int, code: str = "oops", message: str = "went wrong", **kw: Any) -> Script:
        envelope = {"error": {"code": code, "message": message, "details": kw.pop("details", {})}}
        return self.reply(status, envelope, **kw)

    def drop(self) -> Script:
        self._answers.append(Answer(drop=True))
        return self

    def stall(self, seconds: float, status: int = 200) -> Script:
        self._answers.append(Answer(status, {}, {}, delay=seconds))
        return self

    def next_answer(self, received: Received) -> Answer:
        with self._lock:
            self.received.append(received)
            return self._answers.pop(0) if self._answers else Answer()

    @property
    def count(self) -> int:
        return len(self.received)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests (what the client slept, plus a little)."""
        times = [r.at for r in self.received]
        return [b - a for a, b in itertools.pairwise(times)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: Script

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        received = Received(self.command, self.path, dict(self.headers), body, time.monotonic())
        answer = self.script.next_answer(received)
        if answer.drop:
            self.close_connection = True
            return
        time.sleep(answer.delay)
        payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        content_type = "text/html" if isinstance(answer.body, bytes) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle  # noqa: N815 (http.server names them)


def start(script: Script) -> ThreadingHTTPServer:
    """Serve ``script`` on a free loopback port in a daemon thread; sets ``script.base_url``."""
    handler = type("Handler", (_Handler,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    script.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
