"""Asking a chat model for JSON of a given shape, and getting it even from small models.

:func:`ask_json` sends the messages in JSON mode, repairs the reply (``json_repair.parse_json``) and
checks its shape with the caller's ``validate``. If either fails it asks **once** more, showing the model
its own reply and what was wrong with it; if that fails too it raises :class:`StructuredReplyError`, and
the caller falls back to something that needs no model. Endpoint failures (``Unavailable``) are not
retried here: :class:`~memhub.pipeline.llm.chat.ChatClient` already retried them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .chat import ChatClient, Message, assistant, user
from .json_repair import parse_json

log = logging.getLogger(__name__)

T = TypeVar("T")

_REPLY_QUOTE = 2000  # characters of a bad reply shown back to the model


class StructuredReplyError(ValueError):
    """The model's replies could not be turned into the expected JSON, even after a corrective retry."""


def ask_json(
    chat: ChatClient,
    messages: Sequence[Message],
    validate: Callable[[Any], T],
    *,
    shape: str,
    timeout: float | None = None,
) -> T:
    """``validate(reply as JSON)``; ``validate`` raises ``ValueError`` (with a reason) for a wrong shape.

    ``shape`` is a one-line example of the expected JSON, quoted in the corrective message.
    Raises :class:`StructuredReplyError` after two unusable replies, ``Unavailable`` if the endpoint fails.
    """
    conversation = list(messages)
    problem = ""
    for attempt in (1, 2):
        reply = chat.complete(conversation, json=True, timeout=timeout)
        try:
            return validate(parse_json(reply.text))
        except ValueError as exc:
            problem = str(exc)
        log.info("chat endpoint %s: unusable reply (attempt %d): %s", chat.where, attempt, problem)
        conversation += [
            assistant(reply.text[:_REPLY_QUOTE]),
            user(
                f"That reply could not be used ({problem}). Reply again with only a JSON object of "
                f"this form, no prose and no code fence: {shape}"
            ),
        ]
    raise StructuredReplyError(f"no usable JSON from {chat.where} after 2 replies: {problem}")
