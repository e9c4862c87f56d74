"""A small client for OpenAI-compatible ``POST {base_url}/chat/completions`` endpoints.

Works with OpenAI and with the servers that speak its protocol: Ollama (``http://localhost:11434/v1``),
vLLM (``http://host:8000/v1``), LM Studio (``http://localhost:1234/v1``), llama.cpp's server... It is
the one place memhub talks to a chat model; the LLM extractor uses it, and so can any other
post-processing step::

    chat = ChatClient("http://localhost:11434/v1", "qwen2.5:3b", timeout=60)
    reply = chat.complete([system("Answer in JSON."), user("Two primes?")], json=True)
    reply.text          # the assistant's message, as the model wrote it (maybe not valid JSON!)
    reply.finish_reason # "stop", or "length" when max_tokens cut it short

Design choices:

* **Sync httpx, one pooled client**, safe to share between worker threads.
* **Retries only where retrying can help** (connection errors, timeouts, 408/409/429, 5xx) with
  exponential backoff; any other answer fails at once. Every failure ends as
  :class:`memhub.core.errors.Unavailable` naming the endpoint, never the key (``openai_compat``).
* **JSON mode degrades gracefully.** ``json=True`` asks for ``response_format={"type":
  "json_object"}``; servers that refuse that field with a 400 (some LM Studio and llama.cpp versions)
  are asked again without it, and the client remembers. Either way the caller must still parse
  defensively: small models wrap JSON in prose or fences (see ``llm/json_repair.py``).
* **Temperature 0 by default**: extraction wants the same answer for the same input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from memhub.core.errors import Unavailable

from ..openai_compat import (
    Target,
    endpoint,
    post_with_retries,
    rejection,
    scrub,
)

log = logging.getLogger(__name__)

Message = Mapping[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": "..."}``."""


def system(content: str) -> Message:
    return {"role": "system", "content": content}


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def assistant(content: str) -> Message:
    return {"role": "assistant", "content": content}


@dataclass(frozen=True)
class ChatReply:
    """The first choice of a completion."""

    text: str
    finish_reason: str | None
    model: str


class ChatClient:
    """Chat completions over an OpenAI-compatible HTTP API.

    ``base_url`` is the API root (ending in ``/v1`` for most servers). ``timeout`` bounds each HTTP
    attempt in seconds; ``max_retries`` is the number of retries after the first attempt; ``backoff`` is
    the first delay between attempts (doubled each time). ``transport`` is for proxies and tests.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model:
            raise ValueError("model must be a non-empty model name")
        if max_retries < 0 or timeout <= 0 or backoff < 0:
            raise ValueError("max_retries >= 0, timeout > 0 and backoff >= 0 are required")
        self._url, self.where = endpoint(base_url, "/chat/completions")
        self.model = model
        self._api_key = api_key or None
        self._timeout = timeout
        details = self._details()
        self._target = Target("chat", self.where, self._api_key, max_retries, backoff, log, details)
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._json_mode = True  # turned off for good once the server refuses response_format
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient(url={self.where!r}, model={self.model!r})"

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json: bool = False,
        timeout: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply:
        """The model's reply to ``messages``. Raises ``Unavailable`` if the endpoint fails for good.

        ``json=True`` asks the server for a JSON object (where it supports that); ``timeout`` and
        ``max_tokens`` override the client's defaults for this call.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": self._temperature,
            "stream": False,
        }
        limit = max_tokens or self._max_tokens
        if limit:
            payload["max_tokens"] = limit
        wants_format = json and self._json_mode
        if wants_format:
            payload["response_format"] = {"type": "json_object"}
        response = self._post(payload, timeout or self._timeout)
        if response.status_code == 400 and wants_format:
            response = self._without_json_mode(payload, timeout or self._timeout, response)
        if not response.is_success:
            raise self._rejected(response)
        return self._reply(response)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- HTTP ----------------------------------------------------------------------------------------

    def _without_json_mode(
        self, payload: dict[str, Any], timeout: float, refused: httpx.Response
    ) -> httpx.Response:
        """Ask again without ``response_format``; if that works, the server just does not support it."""
        retry = {k: v for k, v in payload.items() if k != "response_format"}
        response = self._post(retry, timeout)
        if response.is_success:
            self._json_mode = False
            reason = scrub(refused.text, self._api_key)
            log.info(
                "chat endpoint %s refused response_format (%s); not sending it again", self.where, reason
            )
        return response

    def _post(self, payload: dict[str, Any], timeout: float) -> httpx.Response:
        """The first answer that is not worth retrying (success or a client error), else ``Unavailable``."""
        return post_with_retries(self._client, self._url, payload, self._target, timeout=timeout)

    def _reply(self, response: httpx.Response) -> ChatReply:
        try:
            body = response.json()
        except ValueError:
            raise self._bad_answer("its answer is not JSON") from None
        choices = body.get("choices") if isinstance(body, dict) else None
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise self._bad_answer("no 'choices[0].message.content' string in its answer")
        finish = first.get("finish_reason") if isinstance(first, dict) else None
        model = body.get("model")
        return ChatReply(
            text=content,
            finish_reason=finish if isinstance(finish, str) else None,
            model=model if isinstance(model, str) else self.model,
        )

    # --- errors --------------------------------------------------------------------------------------

    def _details(self) -> dict[str, Any]:
        return {"endpoint": self.where, "model": self.model}

    def _bad_answer(self, what: str) -> Unavailable:
        return Unavailable(f"chat endpoint {self.where} answered badly: {what}", details=self._details())

    def _rejected(self, response: httpx.Response) -> Unavailable:
        status = response.status_code
        what = rejection(status, response, self._api_key)
        return Unavailable(
            f"chat endpoint {self.where} refused the request ({what})",
            details={**self._details(), "status": status},
        )
