"""The LLM stage of GoodMem's ChatPostProcessor: one ``abstractReply`` written by a registered LLM.

``postProcessor.config.llm_id`` names an LLM registered through ``llms.create`` (an OpenAI-compatible
endpoint: ``endpointUrl`` + ``apiPath`` ``/chat/completions``, ``modelIdentifier``, optional
``credentials``). The question and the passages of the last result set (the reranked one when a
reranker ran) are sent to it with ``memhub.runtime.chat_reply``, and its answer becomes the
stream's last event, linked to that result set.

Why it is built this way:

* **Everything checkable is checked before the first byte** (:func:`plan`): the LLM must exist (404),
  its ``apiPath`` must be the chat-completions path and ``llm_temp`` / ``gen_token_budget`` must be
  in range (400). The call itself happens *after* the result sets were written, while the stream is
  open, so the caller sees the retrieved items at once and only the abstract waits for the model.
* **A failing model does not fail the retrieval**: the stream is already a 200, so a model that is
  down or refuses becomes a ``status`` event ``SUMMARIZATION_FAILED`` (spec §6.4 rule 6) with a generic
  reason; the remote body and socket errors go to the operator's log only.
* **The endpoint is the tenant's choice**, so it is called through the outbound policy
  (``pipeline/outbound.py``): no loopback, private or link-local address unless the operator allowed it.
* **The SDK gives up after 30 s of silence**, so one attempt gets :data:`CHAT_TIMEOUT` seconds and a
  failed attempt is retried once: both fit in the SDK's window.
* ``relevanceScore`` of the reply is the best score among the passages it was given (0 with none):
  the answer is as well supported as its best evidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from memhub.core.errors import InvalidInput, NotSupported, Unavailable
from memhub.core.service import MemoryService
from memhub.pipeline.outbound import OutboundPolicy, operator_reason, public_reason
from memhub.runtime import chat_reply

log = logging.getLogger("memhub.api.goodmem")

LLM_COLLECTION = "goodmem.llm"
CHAT_PATH = "/chat/completions"
CHAT_TIMEOUT = 12.0
DEFAULT_TEMPERATURE = 0.3
DEFAULT_BUDGET = 512
DEFAULT_SYSTEM = (
    "You answer questions using only the numbered memories you are given. "
    "Be concise. If the memories do not contain the answer, say so."
)


@dataclass(frozen=True)
class LlmStage:
    """What the LLM call needs, decided before the stream starts."""

    base_url: str
    model: str
    api_key: str | None
    temperature: float
    max_tokens: int
    system_prompt: str
    prompt: str | None
    tenant_id: str
    outbound: OutboundPolicy


def plan(
    service: MemoryService,
    tenant_id: str,
    llm_id: str,
    config: dict[str, Any],
    budget: int | None,
    outbound: OutboundPolicy,
) -> LlmStage:
    """The stage for ``llm_id`` (404 if not registered) with the config's options (400 if invalid)."""
    data = service.get_record(tenant_id, LLM_COLLECTION, llm_id).data
    if (data.get("apiPath") or CHAT_PATH).rstrip("/") != CHAT_PATH:
        raise NotSupported(
            f"memhub calls LLMs at {CHAT_PATH} only; this LLM's apiPath is {data['apiPath']!r}"
        )
    temperature = _number(config, "llm_temp", DEFAULT_TEMPERATURE)
    if not 0 <= temperature <= 2:
        raise InvalidInput("postProcessor.config.llm_temp must be between 0 and 2")
    tokens = budget or int(_number(config, "gen_token_budget", DEFAULT_BUDGET))
    if tokens < 1:
        raise InvalidInput("gen_token_budget (or outputBudget.tokens) must be positive")
    return LlmStage(
        base_url=str(data["endpointUrl"]),
        model=str(data["modelIdentifier"]),
        api_key=api_key_of(data.get("credentials")),
        temperature=temperature,
        max_tokens=tokens,
        system_prompt=_text(config, "sys_prompt") or DEFAULT_SYSTEM,
        prompt=_text(config, "prompt"),
        tenant_id=tenant_id,
        outbound=outbound,
    )


def abstract_event(
    stage: LlmStage, question: str, passages: list[tuple[str, float]], result_set_id: str
) -> dict[str, Any]:
    """``{"abstractReply": ...}`` from the model, or ``{"status": SUMMARIZATION_FAILED}``."""
    numbered = "\n".join(f"[{i}] {text}" for i, (text, _) in enumerate(passages, 1)) or "(none)"
    ask = f"Question: {question}\n\nMemories:\n{numbered}"
    if stage.prompt:
        ask = f"{stage.prompt}\n\n{ask}"
    try:
        text = chat_reply(
            stage.base_url,
            stage.model,
            stage.api_key,
            system_prompt=stage.system_prompt,
            prompt=ask,
            timeout=CHAT_TIMEOUT,
            max_retries=1,
            temperature=stage.temperature,
            max_tokens=stage.max_tokens,
            outbound=stage.outbound,
        )
    except ValueError as exc:  # the registered URL itself is unusable: the tenant's own input
        return {"status": {"code": "SUMMARIZATION_FAILED", "message": str(exc)}}
    except Unavailable as exc:
        log.warning("registered LLM of tenant %s failed: %s", stage.tenant_id, operator_reason(exc))
        message = f"the LLM failed: {public_reason(exc)}"
        return {"status": {"code": "SUMMARIZATION_FAILED", "message": message}}
    score = max((s for _, s in passages), default=0.0)
    return {"abstractReply": {"text": text, "relevanceScore": score, "resultSetId": result_set_id}}


def api_key_of(credentials: Any) -> str | None:
    """The inline secret of ``{"kind": "CREDENTIAL_KIND_API_KEY", "apiKey": {"inlineSecret": ...}}``."""
    if not isinstance(credentials, dict):
        return None
    secret = (credentials.get("apiKey") or {}).get("inlineSecret")
    return secret if isinstance(secret, str) and secret else None


def _number(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"postProcessor.config.{key} must be a number")
    return float(value)


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"postProcessor.config.{key} must be a string")
    return value or None
