"""memhub objects in Memsy's words: memories as Memsy memory items and search results, jobs as statuses.

How the nouns map:

* A Memsy **event** is one memhub submission of one event, so its ``event_id`` is that submission's
  **job id**: ``/status`` is then one ``get_job`` per id, and a memory's ``source_event_ids`` are the
  job ids of its source events (a memory's sources always belong to the memory's own job).
* What Memsy knows about an event and memhub has no field for (the Memsy ``kind``, ``role_id``,
  ``team_id``, the caller's metadata *string*, the conversation) travels in the event's metadata under
  :data:`TAG` and is inherited by the memories derived from it, so search and the console can answer
  without fetching events.
* memhub memory kinds → Memsy: ``episode`` (a verbatim turn) is an episodic ``event``; an extracted
  ``fact`` is a semantic ``fact``; a ``document`` is semantic. A memory some newer fact superseded is
  ``archived``; memhub does not decay memories, so nothing is ``decayed``.
* ``strength`` follows Memsy's reinforcement rule (1.0, +0.1 per recall, at most 5.0) from the recall
  count memhub keeps; ``confidence`` is the extractor's where it recorded one, else 1.0 (memhub's
  memories are verbatim turns or rule-matched statements, not guesses).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from memhub.core.models import Event, EventKind, Job, JobStatus, Memory, MemoryKind, SearchResult
from memhub.core.service import RECALL_KEY

TAG = "memsy"
"""Key of the Memsy attributes inside a memhub event's (and so its memories') metadata."""

ACTION_NAME = "app_event"
"""Memsy ``app_event`` events are memhub actions with this name; the other kinds are messages."""

ROLE_BY_KIND = {"user_message": "user", "assistant_message": "assistant", "tool_result": "tool"}
_KIND_BY_ROLE = {role: kind for kind, role in ROLE_BY_KIND.items()}
_MEMORY_KIND = {MemoryKind.EPISODE: "episodic", MemoryKind.FACT: "semantic", MemoryKind.DOCUMENT: "semantic"}
_TYPE = {MemoryKind.EPISODE: "event", MemoryKind.FACT: "fact", MemoryKind.DOCUMENT: "document"}
_STATUS = {
    JobStatus.PENDING: "pending",
    JobStatus.PROCESSING: "processing",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
}
MAX_STRENGTH = 5.0


def iso(when: datetime | None) -> str | None:
    """Memsy's timestamp format: UTC with milliseconds and a ``Z`` (``2026-03-15T14:22:10.000Z``)."""
    if when is None:
        return None
    utc = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def job_status(job: Job | None) -> str:
    """``pending|processing|completed|failed``, or ``not_found`` for an id the tenant does not have."""
    return "not_found" if job is None else _STATUS[job.status]


def tags(memory: Memory | Event) -> dict[str, Any]:
    value = memory.metadata.get(TAG)
    return value if isinstance(value, dict) else {}


def memory_kind(memory: Memory) -> str:
    return memory_kind_of(memory.kind)


def memory_kind_of(kind: MemoryKind) -> str:
    """Memsy's ``memory_kind`` of every memory of memhub kind ``kind``."""
    return _MEMORY_KIND[kind]


def memory_type(memory: Memory) -> str:
    return memory_type_of(memory.kind)


def memory_type_of(kind: MemoryKind) -> str:
    """Memsy's ``type`` of every memory of memhub kind ``kind``."""
    return _TYPE[kind]


def memory_status(memory: Memory) -> str:
    return "archived" if memory.valid_to is not None or memory.superseded_by is not None else "active"


def recall_count(memory: Memory) -> int:
    recall = memory.metadata.get(RECALL_KEY)
    return int(recall.get("count", 0)) if isinstance(recall, dict) else 0


def last_recalled_at(memory: Memory) -> str | None:
    recall = memory.metadata.get(RECALL_KEY)
    if not isinstance(recall, dict) or not isinstance(recall.get("last_at"), str):
        return None
    return iso(datetime.fromisoformat(recall["last_at"]))


def strength(memory: Memory) -> float:
    return min(MAX_STRENGTH, round(1.0 + 0.1 * recall_count(memory), 4))


def confidence(memory: Memory) -> float:
    value = memory.metadata.get("confidence")
    return float(value) if isinstance(value, (int, float)) and 0.0 <= value <= 1.0 else 1.0


def source_event_ids(memory: Memory) -> list[str]:
    return [memory.job_id] if memory.job_id else []


def scope(memory: Memory) -> dict[str, Any]:
    """A memory of an event tagged with a team or role is promoted to that level (team above role; see
    ``routes.search``), else it is its actor's; one about nobody (a document) is org-level."""
    tag = tags(memory)
    if memory.user_id is None:
        return {"level": "org"}
    level = "team" if tag.get("team_id") else "role" if tag.get("role_id") else "actor"
    out: dict[str, Any] = {"level": level, "actor_id": memory.user_id}
    out.update({k: tag[k] for k in ("role_id", "team_id") if tag.get(k)})
    return out


def memory_item(memory: Memory, org_id: str) -> dict[str, Any]:
    """``GET /console/memories[/{id}]`` item; every key the SDK reads is always present."""
    kind = memory_kind(memory)
    return {
        "memory_id": memory.id,
        "org_id": org_id,
        "scope": scope(memory),
        "type": memory_type(memory),
        "kind": kind,
        "memory_kind": kind,
        "status": memory_status(memory),
        "text": memory.text,
        "confidence": confidence(memory),
        "strength": strength(memory),
        "recall_count": recall_count(memory),
        "decay_half_life_days": 0.0,  # memhub does not decay memories
        "pinned": memory.core,
        "tags": [],
        "entity_refs": [],
        "source_event_ids": source_event_ids(memory),
        "source_urls": [],
        "summary": None,
        "payload": {k: v for k, v in memory.metadata.items() if k not in (TAG, RECALL_KEY)},
        "last_recalled_at": last_recalled_at(memory),
        "effective_from": iso(memory.valid_from),
        "effective_to": iso(memory.valid_to),
        "observed_at": iso(memory.occurred_at),
        "created_at": iso(memory.created_at),
        "updated_at": iso(memory.updated_at),
    }


def source_metadata(memory: Memory) -> list[dict[str, Any]]:
    """The caller's metadata string of the source event: parsed when it is a JSON object, else raw.

    Memsy caps this list at 5 entries; a memory from a Memsy event has exactly one source event.
    """
    raw = tags(memory).get("metadata")
    if not isinstance(raw, str) or not memory.job_id:
        return []
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return [{"event_id": memory.job_id, "metadata": parsed}]
    return [{"event_id": memory.job_id, "raw": raw}]


def event_kind(event: Event) -> str:
    """The Memsy kind of an event, also for events that came through another door."""
    recorded = tags(event).get("kind")
    if isinstance(recorded, str):
        return recorded
    if event.kind is EventKind.MESSAGE:
        return _KIND_BY_ROLE.get((event.role or "").lower(), "user_message")
    return ACTION_NAME


def event_content(event: Event) -> str:
    """The content as the caller sent it: an action's stored text is ``"<name>: <content>"``."""
    prefix = f"{event.name}: "
    if event.kind is EventKind.ACTION and event.name and event.content.startswith(prefix):
        return event.content[len(prefix) :]
    return event.content


def source_event(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.job_id,
        "kind": event_kind(event),
        "content": event_content(event),
        "ts": iso(event.occurred_at),
    }


def search_result(result: SearchResult, sources: Sequence[Event] | None) -> dict[str, Any]:
    """One ``/search`` result; ``sources`` only when the caller asked for ``include_source_events``."""
    memory = result.memory
    metadata: dict[str, Any] = {
        "actor_id": memory.user_id,
        "session_id": memory.session_id,
        "type": memory_type(memory),
        "kind": memory_kind(memory),
        "memory_kind": memory_kind(memory),
        "strength": strength(memory),
        "confidence": confidence(memory),
        "observed_at": iso(memory.occurred_at),
        "title": None,
        "summary": None,
        "tags": [],
        "entities": [],
        "source_event_ids": source_event_ids(memory),
        "source_metadata": source_metadata(memory),
    }
    if sources is not None:
        metadata["source_events"] = [source_event(e) for e in sources]
    return {"id": memory.id, "content": memory.text, "score": result.score, "metadata": metadata}
