"""A fake OpenAI-compatible API on a loopback port: a real HTTP server for tests, no mocks.

It speaks ``POST /v1/embeddings`` today. Endpoints are a table of ``path -> handler`` so others (e.g.
``/v1/chat/completions``) can be added without touching the server::

    def chat(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
        return Reply(200, {"choices": [...]})

    with start_fake_openai_server() as fake:
        fake.route("/v1/chat/completions", chat)
        client = SomeClient(base_url=fake.base_url)   # http://127.0.0.1:PORT/v1

Behaviour that tests can steer:

* embeddings are deterministic pseudo-random vectors of ``dim`` floats derived from (model, text) and
  deliberately *not* normalised; :meth:`FakeOpenAIServer.expected` gives the normalised ones;
* ``shuffle=True`` (default) answers ``data`` in reverse order, so clients must honour ``index``;
* ``api_key="..."`` requires ``Authorization: Bearer ...``; a wrong key gets a 401 whose message
  *echoes the key sent*, as some servers do, to catch clients that leak it;
* :meth:`fail_next` makes the next N requests fail with a status (e.g. 500 then success);
  :meth:`fail` makes every request fail until switched off;
* every request is recorded in :attr:`requests` (method, path, headers, JSON body).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None


@dataclass
class Reply:
    status: int
    body: Any  # JSON-serialisable
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["FakeOpenAIServer", RecordedRequest], Reply]


def error_reply(status: int, message: str, kind: str = "invalid_request_error") -> Reply:
    """An error in OpenAI's shape: ``{"error": {"message", "type", "code"}}``."""
    return Reply(status, {"error": {"message": message, "type": kind, "code": None}})


def fake_vector(model: str, text: str, dim: int) -> list[float]:
    """Deterministic floats in [-1, 1) from (model, text); not normalised."""
    out: list[float] = []
    counter = 0
    while len(out) < dim:
        digest = hashlib.blake2b(f"{model}\0{text}\0{counter}".encode(), digest_size=64).digest()
        out.extend(value / 2**31 for value in struct.unpack("<16i", digest))
        counter += 1
    return out[:dim]


def embeddings_handler(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return error_reply(400, "'model' is required")
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
        return error_reply(400, "'input' must be a string or a non-empty list of strings")
    model = body["model"]
    data = [
        {"object": "embedding", "index": i, "embedding": fake_vector(model, text, server.dim)}
        for i, text in enumerate(inputs)
    ]
    if server.shuffle:
        data.reverse()
    tokens = sum(len(text.split()) for text in inputs)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return Reply(200, {"object": "list", "data": data, "model": model, "usage": usage})


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed
    # ACK of the headers (~40 ms per request on Linux), which real servers do not add.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        reply = self.server.fake.dispatch(request)
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer


class FakeOpenAIServer:
    """A threaded HTTP server on 127.0.0.1 (free port) speaking the OpenAI API subset in its routes."""

    def __init__(self, *, dim: int = 8, api_key: str | None = None, shuffle: bool = True) -> None:
        self.dim = dim
        self.api_key = api_key
        self.shuffle = shuffle
        self.delay = 0.0  # seconds to wait before answering (timeouts)
        self.requests: list[RecordedRequest] = []
        self._routes: dict[str, Handler] = {"/v1/embeddings": embeddings_handler}
        self._lock = threading.Lock()
        self._failures: list[Reply] = []
        self._fail_all: Reply | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The API root to give clients, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # --- steering ------------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Serve ``path`` (e.g. ``/v1/chat/completions``) with ``handler``."""
        self._routes[path] = handler

    def fail_next(self, times: int = 1, status: int = 500, headers: dict[str, str] | None = None) -> None:
        """The next ``times`` requests (to any route) fail with ``status``."""
        with self._lock:
            failure = error_reply(status, "injected failure", "server_error")
            failure.headers.update(headers or {})
            self._failures.extend([failure] * times)

    def fail(self, on: bool = True, status: int = 500) -> None:
        """While on, every request fails with ``status``."""
        with self._lock:
            self._fail_all = error_reply(status, "injected failure", "server_error") if on else None

    def paths(self) -> list[str]:
        with self._lock:
            return [request.path for request in self.requests]

    def expected(self, texts: list[str], model: str) -> npt.NDArray[np.float32]:
        """The normalised vectors a correct client must return for ``texts``."""
        matrix = np.array([fake_vector(model, text, self.dim) for text in texts], dtype=np.float64)
        normalised: npt.NDArray[np.float32] = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(
            np.float32
        )
        return normalised

    # --- serving -------------------------------------------------------------------------------------

    def dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            injected = self._fail_all or (self._failures.pop(0) if self._failures else None)
        if self.delay:
            time.sleep(self.delay)
        if injected is not None:
            return injected
        if self.api_key is not None:
            sent = request.headers.get("authorization", "")
            if sent != f"Bearer {self.api_key}":
                key = sent.removeprefix("Bearer ")
                return error_reply(401, f"Incorrect API key provided: {key}.", "invalid_api_key")
        handler = self._routes.get(request.path.split("?", 1)[0])
        if handler is None:
            return error_reply(404, f"no route {request.method} {request.path}")
        return handler(self, request)


@contextmanager
def start_fake_openai_server(**options: Any) -> Iterator[FakeOpenAIServer]:
    """Run a :class:`FakeOpenAIServer` (options: ``dim``, ``api_key``, ``shuffle``) for a ``with`` block."""
    with FakeOpenAIServer(**options) as server:
        yield server
