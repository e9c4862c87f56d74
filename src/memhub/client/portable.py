"""memhub's portable export: JSON Lines that any memhub (or any other tool) can read back.

Why events and not memories: memories are *derived* — by an extractor and an embedding model that may
differ between installations — while events are what callers actually said and did. Re-submitting the
events through the ordinary add path rebuilds memories with the target's own pipeline, and the add path
is idempotent, so an import can be re-run safely. Memories are exported too, for reference and for
other tools, but never imported.

One JSON object per line, each with a ``type``::

    {"type": "memhub-export", "format": 1, "memhub": "0.1.0", "exported_at": "…"}        first line
    {"type": "space", "name": "work", "metadata": {}}                         non-default spaces
    {"type": "session", "id": "s1", "user": "ana", "space": null, "metadata": {}}
    {"type": "event", "kind": "message", "id": "m1", "user": "ana", "session": "s1", "space": null,
     "role": "user", "name": null, "content": "…", "timestamp": "…", "metadata": {}, "group": "…"}
    {"type": "memory", "id": "…", "user": "ana", "session": "s1", "space": null, "kind": "fact",
     "core": true, "text": "…", "metadata": {}, "sources": ["m1"], "occurred_at": "…", "created_at": "…"}

``space`` is a space *name* (null = ``default``), so a dump moves between tenants and servers. ``kind``
of an event is ``message``, ``action`` (``name`` = the action) or ``document`` (``name`` = the title).
``group`` keeps the events that were submitted together together on import; lines without it are grouped
by user, session and space. Readers ignore fields and line types they do not know.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from memhub._version import __version__
from memhub.core.models import Event, EventKind, Memory, MessageInput, Session, Space

from ._models import Submission
from ._sync.client import Client
from .errors import ConflictError

FORMAT = 1
HEADER_TYPE = "memhub-export"
DEFAULT_SPACE = "default"
DOCUMENT_KEYS = ("chunk_size", "chunk_overlap", "title")  # what the server adds to a document's metadata

Record = dict[str, Any]


# -------------------------------------------------------------------------------------------------
# export


class SpaceNames:
    """Space id → portable name (None for ``default``), from one listing."""

    def __init__(self, spaces: Iterable[Space]) -> None:
        self._names = {s.id: (None if s.name == DEFAULT_SPACE else s.name) for s in spaces}

    def __call__(self, space_id: str) -> str | None:
        return self._names.get(space_id, space_id)


def header() -> Record:
    now = datetime.now(timezone.utc).isoformat()
    return {"type": HEADER_TYPE, "format": FORMAT, "memhub": __version__, "exported_at": now}


def space_record(space: Space) -> Record:
    return {"type": "space", "name": space.name, "metadata": space.metadata}


def session_record(session: Session, names: SpaceNames) -> Record:
    return {
        "type": "session",
        "id": session.id,
        "user": session.user_id,
        "space": names(session.space_id),
        "metadata": session.metadata,
    }


def event_record(event: Event, names: SpaceNames) -> Record:
    return {
        "type": "event",
        "kind": event.kind.value,
        "id": event.external_id,
        "user": event.user_id,
        "session": event.session_id,
        "space": names(event.space_id),
        "role": event.role,
        "name": event.name,
        "content": event.content,
        "timestamp": event.occurred_at.isoformat(),
        "metadata": event.metadata,
        "group": event.job_id,
    }


def memory_record(memory: Memory, names: SpaceNames) -> Record:
    return {
        "type": "memory",
        "id": memory.id,
        "user": memory.user_id,
        "session": memory.session_id,
        "space": names(memory.space_id),
        "kind": memory.kind.value,
        "core": memory.core,
        "text": memory.text,
        "metadata": memory.metadata,
        "sources": [s.public_id for s in memory.sources],
        "occurred_at": memory.occurred_at.isoformat(),
        "created_at": memory.created_at.isoformat(),
    }


def export_records(client: Client) -> Iterator[Record]:
    """The dump of everything ``client``'s tenant owns, record by record (header, spaces, sessions,
    events, memories). Events are every raw event the API lists (``GET /v1/events``): messages with or
    without a session, actions and documents, so a dump through a server equals one of the data folder.
    """
    spaces = list(client.spaces.list())
    names = SpaceNames(spaces)
    yield header()
    yield from (space_record(s) for s in spaces if s.name != DEFAULT_SPACE)
    yield from (session_record(s, names) for s in client.sessions.list(limit=1000))
    yield from (event_record(e, names) for e in client.events.list(limit=1000))
    yield from (memory_record(m, names) for m in client.memories.list(limit=1000))


def dumps(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# -------------------------------------------------------------------------------------------------
# import


class FormatError(ValueError):
    """The file is not a memhub export this version can read; the message names the line."""


def read_records(lines: Iterable[str]) -> Iterator[Record]:
    """Parse the lines (blank ones skipped), checking the header when there is one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise FormatError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise FormatError(f"line {number}: expected an object with a 'type'")
        if record["type"] == HEADER_TYPE and record.get("format", FORMAT) > FORMAT:
            raise FormatError(f"line {number}: format {record['format']} is newer than this memhub reads")
        yield record


@dataclass
class Batch:
    """Events that go to the server in one add call."""

    kind: EventKind
    user: str | None
    session: str | None
    space: str | None
    events: list[Record] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What an import will do, decided before anything is sent (so progress has a total)."""

    spaces: list[Record] = field(default_factory=list)
    sessions: list[Record] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    memories: int = 0
    ignored: int = 0


def plan_import(records: Iterable[Record], max_batch: int = 100) -> ImportPlan:
    """Sort records into what to create and which events to submit together."""
    plan = ImportPlan()
    groups: dict[tuple[Any, ...], Batch] = {}
    for record in records:
        kind = record["type"]
        if kind == "space":
            plan.spaces.append(record)
        elif kind == "session":
            plan.sessions.append(record)
        elif kind == "event":
            _add_event(groups, record)
        elif kind == "memory":
            plan.memories += 1
        elif kind != HEADER_TYPE:
            plan.ignored += 1
    for batch in groups.values():
        plan.batches.extend(_split(batch, max_batch))
    return plan


def _add_event(groups: dict[tuple[Any, ...], Batch], record: Record) -> None:
    try:
        kind = EventKind(record.get("kind", "message"))
    except ValueError:
        raise FormatError(f"unknown event kind {record.get('kind')!r}") from None
    user, session, space = record.get("user"), record.get("session"), record.get("space")
    if kind != EventKind.MESSAGE:  # actions and documents are submitted one by one
        groups[("single", len(groups))] = Batch(kind, user, session, space, [record])
        return
    key = ("group", record["group"]) if record.get("group") else ("run", user, session, space)
    groups.setdefault(key, Batch(kind, user, session, space)).events.append(record)


def _split(batch: Batch, size: int) -> Iterator[Batch]:
    for start in range(0, len(batch.events), size):
        yield Batch(batch.kind, batch.user, batch.session, batch.space, batch.events[start : start + size])


def create_containers(client: Client, plan: ImportPlan) -> None:
    """Create the plan's spaces and sessions; ones that already exist are kept as they are."""
    for space in plan.spaces:
        with contextlib.suppress(ConflictError):
            client.spaces.create(space["name"], metadata=space.get("metadata"))
    for session in plan.sessions:
        with contextlib.suppress(ConflictError):
            client.sessions.create(
                session["user"],
                session_id=session["id"],
                space=session.get("space"),
                metadata=session.get("metadata"),
            )


def submit_batch(client: Client, batch: Batch) -> Submission:
    """Send one batch through the ordinary add path (idempotent: the same batch lands on the same job)."""
    if batch.kind == EventKind.ACTION:
        return _submit_action(client, batch.events[0])
    if batch.kind == EventKind.DOCUMENT:
        return _submit_document(client, batch.events[0])
    if not batch.user:
        raise FormatError("a message event has no user")
    messages = [_message(e) for e in batch.events]
    return client.memories.add(messages, user_id=batch.user, session_id=batch.session, space=batch.space)


def _message(record: Record) -> MessageInput:
    return MessageInput(
        role=record.get("role") or "user",
        content=record["content"],
        id=record.get("id"),
        name=record.get("name"),
        timestamp=record.get("timestamp"),
        metadata=record.get("metadata") or {},
    )


def _submit_action(client: Client, record: Record) -> Submission:
    name = record.get("name") or "action"
    content: str = record.get("content") or ""
    if content == name:
        content = ""
    elif content.startswith(f"{name}: "):
        content = content[len(name) + 2 :]
    return client.events.add(
        record["user"],
        name,
        content or None,
        id=record.get("id"),
        timestamp=_datetime(record.get("timestamp")),
        metadata=record.get("metadata") or None,
        session_id=record.get("session"),
        space=record.get("space"),
    )


def _submit_document(client: Client, record: Record) -> Submission:
    metadata = dict(record.get("metadata") or {})
    sizes = {k: metadata.pop(k) for k in DOCUMENT_KEYS if k in metadata}
    return client.documents.add(
        record["content"],
        id=record.get("id"),
        title=record.get("name") or sizes.get("title"),
        user_id=record.get("user"),
        space=record.get("space"),
        metadata=metadata or None,
        chunk_size=sizes.get("chunk_size"),
        chunk_overlap=sizes.get("chunk_overlap"),
        timestamp=_datetime(record.get("timestamp")),
    )


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
