"""GoMemory's wire: the protocol's messages and errors, and its request bodies parsed by hand.

Bodies are parsed here rather than by pydantic models because the protocol's 400 answers are
endpoint-specific texts (``FORMAT_WRONG``, ``USER_REQUIRED`` …) that FastAPI's validation errors are not;
a bad body raises :class:`Rejected` with the text the reference server answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memhub.core.models import MessageInput

HEALTHY = "Server is healthy!"
QUEUED = "Memory Insertion Job has been queued for insertion!"
ALREADY_QUEUED = "Memory Insertion Job is already queued or processed successfully!"
FORMAT_WRONG = "Request format is wrong"
NO_MESSAGES = "No messages provided"
USER_REQUIRED = "userId is required"
MALFORMED_GET = "Malformed JSON here in the Get Memory request"
BOTH_GIVEN = "Provide exactly one of query or messages"
NEITHER_GIVEN = "Neither user query nor user messages was provided"
EMPTY_MESSAGES = "Need atleast one message"
NO_TEXT = "The messages contain no text to search with"
UNKNOWN_REQUEST = "Request doesn't exist"

DEFAULT_THRESHOLD = 0.65
CONTEXT_CHARS = 500  # how much of the conversation's end a messages-query looks at (reference: ~500)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


class Rejected(Exception):
    """A request this protocol answers with an error of its own (status + the protocol's message)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Insertion:
    user_id: str
    messages: list[MessageInput]


@dataclass(frozen=True)
class Retrieval:
    user_id: str
    query: str
    threshold: float
    core: bool


def _json_object(raw: bytes, message: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise Rejected(400, message) from None
    if not isinstance(body, dict):
        raise Rejected(400, message)
    return body


def _user_id(body: dict[str, Any]) -> str:
    value = body.get("userId")
    if value is not None and not isinstance(value, str):
        raise Rejected(400, FORMAT_WRONG)
    if not value or not value.strip():
        raise Rejected(400, USER_REQUIRED)
    return value


def _messages(value: Any, empty_message: str) -> list[MessageInput]:
    if value is None:
        raise Rejected(400, empty_message)
    if not isinstance(value, list):
        raise Rejected(400, FORMAT_WRONG)
    if not value:
        raise Rejected(400, empty_message)
    return [_message(item) for item in value]


def _message(item: Any) -> MessageInput:
    """Any role string is accepted: the SDK sends ``model``, raw-HTTP callers send ``assistant``."""
    if not isinstance(item, dict):
        raise Rejected(400, FORMAT_WRONG)
    role, content = item.get("role"), item.get("content")
    if not isinstance(role, str) or not role.strip() or not isinstance(content, str):
        raise Rejected(400, FORMAT_WRONG)
    return MessageInput(role=role, content=content)


def parse_insertion(raw: bytes) -> Insertion:
    body = _json_object(raw, FORMAT_WRONG)
    return Insertion(_user_id(body), _messages(body.get("messages"), NO_MESSAGES))


def parse_retrieval(raw: bytes) -> Retrieval:
    body = _json_object(raw, MALFORMED_GET)
    user_id = _user_id(body)
    query = _retrieval_text(body)
    return Retrieval(user_id, query, _threshold(body.get("threshold")), _core(body.get("core")))


def _retrieval_text(body: dict[str, Any]) -> str:
    """Exactly one of ``query`` (non-empty) or ``messages`` (present); messages become a query."""
    query, messages = body.get("query"), body.get("messages")
    if query is not None and not isinstance(query, str):
        raise Rejected(400, FORMAT_WRONG)
    if query is not None and messages is not None:  # even an empty query: the caller sent both
        raise Rejected(400, BOTH_GIVEN)
    if query:
        return query
    if messages is None:
        raise Rejected(400, NEITHER_GIVEN)
    text = contextual_query([m.content for m in _messages(messages, EMPTY_MESSAGES)])
    if not text:
        raise Rejected(400, NO_TEXT)
    return text


def _threshold(value: Any) -> float:
    """Absent → 0.65. An explicit 0 is honoured as "no threshold" (the reference can't tell)."""
    if value is None:
        return DEFAULT_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise Rejected(400, "threshold must be a number between 0 and 1")
    return float(value)


def _core(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise Rejected(400, "core must be true or false")
    return value


def contextual_query(contents: Sequence[str], budget: int = CONTEXT_CHARS) -> str:
    """The conversation's last ~``budget`` characters of sentences, latest first, kept in order.

    Retrieval by messages is about where the conversation is now, so the query is built from its end
    backwards (the reference server's ``ConstructContextualQuery``); empty contents are skipped.
    """
    picked: list[str] = []
    used = 0
    for content in reversed(contents):
        for piece in reversed(_SENTENCE.findall(content)):
            sentence = piece.strip()
            if not sentence:
                continue
            if picked and used + len(sentence) > budget:
                return " ".join(reversed(picked))
            picked.append(sentence[-budget:])
            used += len(sentence) + 1
    return " ".join(reversed(picked))
