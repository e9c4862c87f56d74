"""Talking to chat models over OpenAI-compatible HTTP APIs (OpenAI, Ollama, vLLM, LM Studio...).

* :class:`ChatClient` — ``complete(messages, json=..., timeout=...)`` with retries and backoff.
* :func:`ask_json` — JSON of a given shape from any model: repair, one corrective retry, then an error.
* :func:`parse_json` — the JSON value in what a model wrote (fences, prose, trailing commas, truncation).
"""

from .chat import ChatClient, ChatReply, Message, assistant, system, user
from .json_repair import JSONRepairError, parse_json
from .structured import StructuredReplyError, ask_json

__all__ = [
    "ChatClient",
    "ChatReply",
    "JSONRepairError",
    "Message",
    "StructuredReplyError",
    "ask_json",
    "assistant",
    "parse_json",
    "system",
    "user",
]
