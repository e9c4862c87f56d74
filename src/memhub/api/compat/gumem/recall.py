"""GUMem's recall (``GET``/``POST .../context``): recent messages, observations and propositions.

See ``routes.py`` (*Recall parts*, *MetadataFilters*) for what each part is in memhub's terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from memhub.core.errors import (
    InvalidInput,
)
from memhub.core.models import (
    Event,
    Memory,
    MemoryKind,
    SearchRequest,
    Session,
)
from memhub.core.service import MemoryService

from .translate import MESSAGE_STATUS, context_text, envelope, memory_item, message_item
from .wire import FILTERS_KEY, RECALL_KEYS, ContextBody, RecallConfig

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


# ---------------------------------------------------------------------------------------------------
# recall


def recall(
    service: MemoryService,
    tenant_id: str,
    session_id: str,
    query: str | None,
    details: str | None,
    body: ContextBody,
) -> dict[str, Any]:
    session = service.get_session(tenant_id, session_id)
    verbose = _flag(details)
    config = _recall_config(body.recall_config)
    filters = _metadata_filters(body.metadata_filters, body.recall_config)
    text = (query or "").strip()
    messages = service.recent_messages(tenant_id, session.id, config.message_recent_limit, filters=filters)
    observations = _observations(service, tenant_id, session, text, config, filters)
    propositions = _propositions(service, tenant_id, session, text, config, filters)
    statuses = _statuses(service, tenant_id, messages)
    data: dict[str, Any] = {
        "session_id": session.id,
        "user_id": session.user_id,
        "query": text or None,
        "messages": [message_item(e, statuses[e.job_id], verbose) for e in messages],
        "observations": [memory_item(m, score, verbose) for m, score in observations],
        "propositions": [memory_item(m, score, verbose) for m, score in propositions],
        "context": context_text(messages, observations, propositions),
    }
    if verbose:
        data["recall"] = {**config.model_dump(), "metadata_filters": filters or {}}
    return envelope("memory retrieved", data)


def _flag(value: str | None) -> bool:
    """``details`` as the SDK sends it (``true``/``false``), plus ``1``/``0``; absent = false."""
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise InvalidInput("details must be true or false")


def _recall_config(raw: Mapping[str, Any] | None) -> RecallConfig:
    """Match keys in any casing (``MessageRecentLimit``, ``message_recent_limit``, ``messageRecentLimit``)."""
    known = {}
    for key, value in (raw or {}).items():
        name = RECALL_KEYS.get(_normalised(key))
        if name is not None:
            known[name] = value
    try:
        return RecallConfig.model_validate(known)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"recall_config.{where}: {first['msg']}") from None


def _normalised(key: str) -> str:
    return key.replace("_", "").lower()


def _metadata_filters(
    top_level: Mapping[str, Any] | None, recall: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """``MetadataFilters`` (recall_config wins per key over a top-level ``metadata_filters``), validated."""
    merged: dict[str, Any] = {}
    for source in (top_level, *(v for k, v in (recall or {}).items() if _normalised(k) == FILTERS_KEY)):
        if source is None:
            continue
        if not isinstance(source, Mapping):
            raise InvalidInput("MetadataFilters must be an object")
        merged.update(source)
    for key, value in merged.items():
        _check_filter(key, value)
    return merged or None


def _check_filter(key: str, value: Any) -> None:
    """Flat exact-match pairs only: a ``$`` key or an object value would be a core filter operator."""
    if not key or key.startswith("$"):
        raise InvalidInput("MetadataFilters keys must be non-empty strings not starting with '$'")
    if not isinstance(value, (str, int, float, bool)):
        raise InvalidInput("MetadataFilters values must be strings, numbers, or booleans")


def _observations(
    service: MemoryService,
    tenant_id: str,
    session: Session,
    query: str,
    config: RecallConfig,
    filters: dict[str, Any] | None,
) -> list[tuple[Memory, float | None]]:
    """The user's episodes relevant to the query — turns of any of their sessions and their actions, with
    or without a session — this session's first on a tie (none without a query: ``messages`` has the
    turns)."""
    if not query or config.observation_semantic_top_k == 0:
        return []
    request = SearchRequest(
        query=query,
        user_id=session.user_id,
        kinds=[MemoryKind.EPISODE],
        filters=filters,
        limit=config.observation_semantic_top_k,
    )
    return [(r.memory, r.score) for r in service.search_for_session(tenant_id, request, session.id)]


def _propositions(
    service: MemoryService,
    tenant_id: str,
    session: Session,
    query: str,
    config: RecallConfig,
    filters: dict[str, Any] | None,
) -> list[tuple[Memory, float | None]]:
    """The user's facts across all sessions: by relevance to the query, else as the service lists them."""
    if not config.enable_long_term_recall or config.proposition_top_k == 0:
        return []
    if not query:
        page = service.list_memories(
            tenant_id,
            user_id=session.user_id,
            kinds=[MemoryKind.FACT],
            filters=filters,
            limit=config.proposition_top_k,
        )
        return [(m, None) for m in page.items]
    request = SearchRequest(
        query=query,
        user_id=session.user_id,
        kinds=[MemoryKind.FACT],
        filters=filters,
        limit=config.proposition_top_k,
    )
    return [(r.memory, r.score) for r in service.search_for_session(tenant_id, request, session.id)]


def _statuses(service: MemoryService, tenant_id: str, messages: Iterable[Event]) -> dict[str, str]:
    """Each message's status is its job's: one lookup per distinct job, not per message."""
    jobs = {e.job_id for e in messages}
    return {job_id: MESSAGE_STATUS[service.get_job(tenant_id, job_id).status] for job_id in jobs}
