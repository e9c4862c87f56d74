"""``POST /v1/chat/completions`` for the fake OpenAI server, with replies scripted by the test.

A :class:`ChatScript` is installed on a :class:`~.openai_server.FakeOpenAIServer` and answers each
chat request with the next scripted step, in order, then with ``default`` once the script is used up::

    with start_fake_openai_server() as fake:
        chat = ChatScript(fake)
        chat.reply('```json\\n{"facts": []}\\n```')   # content of the assistant message, verbatim
        chat.status(500)                               # an HTTP error in OpenAI's error shape
        chat.slow(3.0, '{"facts": []}')                # answers after 3 s (beyond a client's timeout)
        release = chat.held('{"facts": []}')           # answers once the test sets ``release``

Replies are real chat-completion objects (``choices[0].message.content``), so a client sees exactly what
OpenAI, vLLM or Ollama would send; what is *in* the content is up to the test: valid JSON, JSON in a
fence, trailing commas, truncated JSON, prose. ``refuse_json_mode=True`` answers 400 to requests carrying
``response_format``, as some LM Studio / llama.cpp versions do. :attr:`ChatScript.calls` holds the
``messages`` of every chat request received.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from memhub.testing.openai_server import FakeOpenAIServer, RecordedRequest, Reply, error_reply

Step = Callable[[RecordedRequest], Reply]


def completion(content: str, model: str = "fake-chat", finish_reason: str = "stop") -> Reply:
    """A ``chat.completion`` object whose first choice says ``content``."""
    return Reply(
        200,
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


class ChatScript:
    """Scripted answers of ``/v1/chat/completions`` on ``fake``."""

    def __init__(
        self, fake: FakeOpenAIServer, default: str = '{"facts": []}', *, refuse_json_mode: bool = False
    ):
        self.default = default
        self.refuse_json_mode = refuse_json_mode
        self.calls: list[list[dict[str, Any]]] = []
        self.bodies: list[dict[str, Any]] = []
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        fake.route("/v1/chat/completions", self._handle)

    def reply(self, *contents: str, finish_reason: str = "stop") -> ChatScript:
        for content in contents:
            self._steps.append(self._answer(content, finish_reason))
        return self

    @staticmethod
    def _answer(content: str, finish_reason: str) -> Step:
        return lambda request: completion(content, finish_reason=finish_reason)

    def status(self, code: int, times: int = 1) -> ChatScript:
        for _ in range(times):
            self._steps.append(lambda request: error_reply(code, f"injected HTTP {code}", "server_error"))
        return self

    def slow(self, seconds: float, content: str) -> ChatScript:
        def step(request: RecordedRequest) -> Reply:
            time.sleep(seconds)
            return completion(content)

        self._steps.append(step)
        return self

    def held(self, content: str, safety_timeout: float = 60.0) -> threading.Event:
        """The next request is answered only once the returned event is set (by the test, when it has
        seen what a client does meanwhile, e.g. give up at its timeout)."""
        release = threading.Event()

        def step(request: RecordedRequest) -> Reply:
            release.wait(safety_timeout)
            return completion(content)

        self._steps.append(step)
        return release

    def pending(self) -> int:
        """Scripted steps not used yet."""
        with self._lock:
            return len(self._steps)

    def _handle(self, server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
            return error_reply(400, "'model' and 'messages' are required")
        if self.refuse_json_mode and "response_format" in body:
            return error_reply(400, "'response_format.type' must be 'json_schema'")
        with self._lock:
            self.calls.append(body["messages"])
            self.bodies.append(body)
            step = self._steps.popleft() if self._steps else None
        return step(request) if step is not None else completion(self.default)
