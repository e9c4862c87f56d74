"""memhub objects in GUMem's words: the envelope, sessions, messages, memories and the context text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from memhub.core.models import (
    Event,
    JobStatus,
    Memory,
    Session,
)

from .wire import as_utc

EXTRA_KEY = "gumem"  # metadata key holding the protocol fields memhub has no column for
CREATED_AT = "created_at"  # under EXTRA_KEY: a message's own created_at, when it differs from its timestamp

# memhub's job lifecycle in GUMem's words (memhub has no separate "chunked" step).
MESSAGE_STATUS: dict[JobStatus, str] = {
    JobStatus.PENDING: "pending",
    JobStatus.PROCESSING: "pending",
    JobStatus.SUCCEEDED: "processed",
    JobStatus.FAILED: "failed",
}


# ---------------------------------------------------------------------------------------------------
# serialisation


def envelope(message: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "message": message, "data": data}


def iso(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-04-22T01:02:03.000Z``."""
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_data(session: Session) -> dict[str, Any]:
    extra = session.metadata.get(EXTRA_KEY)
    title = extra.get("title") if isinstance(extra, dict) else None
    return {
        "session_id": session.id,
        "user_id": session.user_id,
        "title": title,
        "metadata": {k: v for k, v in session.metadata.items() if k != EXTRA_KEY},
        "created_at": iso(session.created_at),
    }


def given_created_at(metadata: dict[str, Any]) -> datetime | None:
    """The ``created_at`` the caller gave (kept under ``gumem``), if it differed from the timestamp."""
    extra = metadata.get(EXTRA_KEY)
    value = extra.get(CREATED_AT) if isinstance(extra, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _caller_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A message's metadata as its caller sent it: without memhub's reserved ``gumem`` key."""
    return {k: v for k, v in metadata.items() if k != EXTRA_KEY}


def message_item(event: Event, status: str, verbose: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "message_id": event.id,
        "id": event.external_id,
        "role": event.role,
        "content": event.content,
    }
    if verbose:
        item.update(
            timestamp=iso(event.occurred_at),
            created_at=iso(given_created_at(event.metadata) or event.occurred_at),
            metadata=_caller_metadata(event.metadata),
            status=status,
        )
    return item


def memory_item(memory: Memory, score: float | None, verbose: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": memory.id, "content": memory.text}
    if score is not None:
        item["score"] = round(score, 4)
    if verbose:
        item.update(
            kind=memory.kind.value,
            core=memory.core,
            timestamp=iso(memory.occurred_at),
            created_at=iso(given_created_at(memory.metadata) or memory.occurred_at),
            updated_at=iso(memory.updated_at),
            metadata=memory.metadata,
            source={
                "event_ids": [s.event_id for s in memory.sources],
                "ids": [s.public_id for s in memory.sources],
                "session_id": memory.session_id,
            },
        )
    return item


def context_text(
    messages: Sequence[Event],
    observations: Sequence[tuple[Memory, float | None]],
    propositions: Sequence[tuple[Memory, float | None]],
) -> str:
    """A ready-to-paste rendering of the three parts, most durable knowledge first."""
    sections = []
    if propositions:
        sections.append("Relevant memory:\n" + "\n".join(f"- {m.text}" for m, _ in propositions))
    if observations:
        sections.append("Earlier in this session:\n" + "\n".join(f"- {m.text}" for m, _ in observations))
    if messages:
        sections.append("Recent messages:\n" + "\n".join(f"{e.role}: {e.content}" for e in messages))
    return "\n\n".join(sections)
