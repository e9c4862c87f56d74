"""GoMemory onto memhub: the ReqId, memory objects, status names, and what a retrieval returns."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from memhub.core.models import JobStatus, Memory, MemoryKind, MessageInput, SearchRequest
from memhub.core.service import MemoryService

from .wire import Retrieval

GENERAL_LIMIT = 10  # similarity hits per answer: the reference server's (Qdrant's default) page size
# What the door calls the user's memories: every turn but the assistant side's (what an assistant said is
# not something the user told it) — GoMemory's SDK sends "model", raw callers "assistant".
NOT_THE_USERS = ["assistant", "model", "system", "tool", "function", "ai", "bot"]
# P(relevant | cosine) = 1 / (1 + exp(-(A·cosine + B))) for the bundled all-MiniLM-L6-v2 keys, measured by
# bench/gomemory_threshold.py (docs/decisions/gomemory-threshold.md): the protocol's threshold (default
# 0.65) is a probability that a memory is about what was asked rather than about something else in a
# life, so 0.65 (cosine 0.311) keeps what is on the question's topic and drops the rest.
RELEVANCE_A = 23.70
RELEVANCE_B = -6.761
STATUS_NAMES = {
    JobStatus.PENDING: "pending",
    JobStatus.PROCESSING: "processing",
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "failure",
}


def request_id(user_id: str, messages: Sequence[MessageInput]) -> str:
    """The ReqId: UUIDv5(OID, user + "\\n" + JSON of [[role, content], …]) (spec §3.3 decision).

    Same user and same ordered messages → same id; a different user, content, order or role → another
    id, and re-splitting content (["ab","c"] vs ["a","bc"]) cannot collide as in the reference digest.
    """
    pairs = [[m.role, m.content] for m in messages]
    canonical = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(uuid.NAMESPACE_OID, user_id + "\n" + canonical))


def memory_object(memory: Memory, kind: str, user_id: str, score: float | None) -> dict[str, Any]:
    """One memory with both key sets (SDK aliases and documented json tags) and its score."""
    owner = memory.user_id or user_id
    return {
        "Memory_text": memory.text,
        "Type": kind,
        "Memory_Id": memory.id,
        "UserId": owner,
        "memory_text": memory.text,
        "type": kind,
        "memory_id": memory.id,
        "userId": owner,
        "score": score,
    }


def timestamp(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def relevance(similarity: float) -> float:
    """The score the protocol compares with its threshold: memhub's similarity as P(relevant)."""
    return 1.0 / (1.0 + math.exp(-(RELEVANCE_A * similarity + RELEVANCE_B)))


def retrieve(service: MemoryService, tenant_id: str, retrieval: Retrieval) -> list[dict[str, Any]]:
    """General hits (the user's non-core memories at or above the threshold, best first), then core facts.

    General = extracted non-core facts and the user's own turns; the assistant's turns are context for
    extraction, never returned as the user's memories.
    """
    request = SearchRequest(
        query=retrieval.query,
        user_id=retrieval.user_id,
        core=False,
        kinds=[MemoryKind.FACT, MemoryKind.EPISODE],
        filters={"role": {"$nin": NOT_THE_USERS}},
        limit=min(GENERAL_LIMIT, service.limits.max_search_limit),
    )
    # The threshold applies to this door's own P(relevant | cosine) (docs/decisions/gomemory-threshold.md),
    # not to memhub's search-wide score, so the service is asked without one and the cut is made here.
    scored = ((hit.memory, relevance(hit.similarity)) for hit in service.search(tenant_id, request))
    items = [
        memory_object(memory, "general", retrieval.user_id, round(score, 4))
        for memory, score in scored
        if score >= retrieval.threshold
    ]
    if retrieval.core:
        core = _core_memories(service, tenant_id, retrieval.user_id)
        items.extend(memory_object(memory, "core", retrieval.user_id, None) for memory in core)
    return items


def _core_memories(service: MemoryService, tenant_id: str, user_id: str) -> list[Memory]:
    """All current core facts of the user ("always provided", never threshold-filtered)."""
    return service.all_memories(tenant_id, user_id=user_id, kinds=[MemoryKind.FACT], core=True)
