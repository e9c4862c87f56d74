"""The mem0 use cases as sequences of service calls: add, search, list, history, deletes, entities.

No SQL and no ranking here: each function translates, calls ``MemoryService`` and shapes the answer.
Waiting for a job (``infer: false`` and text updates, which mem0 answers synchronously) polls the job
within a budget; the answer then reports the job's state as it is, never a guess.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from memhub.core.errors import InvalidInput, NotFound, NotSupported
from memhub.core.models import REVISES_KEY, Event, Job, JobStatus, Memory, MessageInput, Page, SearchRequest
from memhub.core.paging import iter_items
from memhub.core.service import MemoryService

from . import translate as t
from .wire import UNHONOURED_ADD, AddBody, ListBody, SearchBody

SYNC_BUDGET_SECONDS = 25.0
SYNC_POLL_SECONDS = 0.02
MAX_CHAIN = 100  # versions followed in a supersede chain (a revision loop cannot hang a request)
DEFAULT_PAGE_SIZE = 100
_SETTLED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


def refuse_unhonoured(body: Any, table: Mapping[str, str]) -> None:
    """A field memhub cannot honour, sent with a value, is refused by name rather than dropped."""
    for field, feature in table.items():
        value = getattr(body, field, None)
        if value not in (None, False, [], {}, ""):
            raise NotSupported(f"{feature} ({field}) is not supported by memhub")


# ---------------------------------------------------------------------------------------------------
# add and events


def add(service: MemoryService, tenant_id: str, body: AddBody) -> tuple[Job, bool]:
    """Store the messages; returns the job and whether to wait for it (mem0 answers ``infer: false``
    and 1.x ``async_mode: false`` synchronously)."""
    refuse_unhonoured(body, UNHONOURED_ADD)
    entities = t.entity_ids(body, body.filters)
    metadata = t.stored_metadata(entities, body.metadata)
    when = None
    if body.timestamp is not None:
        when = datetime.fromtimestamp(float(body.timestamp), tz=timezone.utc)
    messages = [
        MessageInput(role=m.role, content=m.content, name=m.name, timestamp=when) for m in body.messages
    ]
    submitted = service.add_messages(
        tenant_id,
        messages,
        user_id=t.owner(entities),
        session_id=entities.get("run_id"),
        metadata=metadata,
        verbatim=not body.infer,
    )
    wait = not body.infer or body.async_mode is False
    return (settled(service, tenant_id, submitted.job) if wait else submitted.job), wait


def settled(service: MemoryService, tenant_id: str, job: Job) -> Job:
    deadline = time.monotonic() + SYNC_BUDGET_SECONDS
    while job.status not in _SETTLED and time.monotonic() < deadline:
        time.sleep(SYNC_POLL_SECONDS)
        job = service.get_job(tenant_id, job.id)
    return job


def job_results(service: MemoryService, tenant_id: str, job: Job) -> list[dict[str, Any]]:
    """The memories a finished job wrote that still exist, as add results."""
    out = []
    for memory_id in job.memory_ids:
        try:
            out.append(t.added(service.get_memory(tenant_id, memory_id)))
        except NotFound:
            continue
    return out


# ---------------------------------------------------------------------------------------------------
# search and listing


def search(service: MemoryService, tenant_id: str, body: SearchBody) -> list[dict[str, Any]]:
    user_id, session_id, flt = _selection(body)
    limit = body.limit or body.top_k
    if limit > service.limits.max_search_limit:
        raise InvalidInput(f"top_k must be at most {service.limits.max_search_limit} on this server")
    request = SearchRequest(
        query=body.query,
        user_id=user_id,
        session_id=session_id,
        limit=limit,
        # No threshold unless asked: mem0's default 0.1 is on its own score; on memhub's calibrated
        # probability right answers in a small store score 0.02-0.04 (docs/decisions/mem0-door.md).
        threshold=body.threshold,
        filters=flt,
        rerank=body.rerank,
    )
    hits = service.search(tenant_id, request)
    return [t.pick_fields(t.memory_object(h.memory, h.score), body.fields) for h in hits]


def _selection(body: SearchBody | ListBody) -> tuple[str | None, str | None, dict[str, Any] | None]:
    """(memhub user, session, memhub filter) of a search's or listing's filters, categories, metadata."""
    user_id, session_id, rest = t.scope_of(t.merged_filters(body, body.filters))
    parts = [t.to_filter(rest)]
    if body.categories:
        parts.append({"category": {"$in": body.categories}})
    if body.metadata:
        parts.append(t.to_filter({"metadata": body.metadata}))
    return user_id, session_id, _all_of(parts)


def _all_of(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    present = [p for p in parts if p]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def list_page(
    service: MemoryService, tenant_id: str, body: ListBody, page: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total, the page's memories), newest first. Pages are numbered from 1 as mem0's are."""
    if page_size > service.limits.max_page_size:
        raise InvalidInput(f"page_size must be at most {service.limits.max_page_size}")
    user_id, session_id, flt = _selection(body)
    superseded = body.latest_only is False
    total = service.count_memories(
        tenant_id, user_id=user_id, session_id=session_id, filters=flt, include_superseded=superseded
    )

    def fetch(cursor: str | None) -> Page:
        return service.list_memories(
            tenant_id,
            user_id=user_id,
            session_id=session_id,
            filters=flt,
            include_superseded=superseded,
            cursor=cursor,
            limit=page_size,
        )

    cursor: str | None = None
    for _ in range(page - 1):  # memhub pages by cursor: walk to the asked page
        cursor = fetch(cursor).next_cursor
        if cursor is None:
            return total, []
    listed = fetch(cursor)
    return total, [t.memory_object(m) for m in listed.items]


def matching(
    service: MemoryService, tenant_id: str, flt: dict[str, Any] | None, user_id: str | None = None
) -> Iterator[Memory]:
    """Every memory (superseded ones too) the filter selects, page by page."""
    return iter_items(
        lambda cursor: service.list_memories(
            tenant_id,
            user_id=user_id,
            filters=flt,
            include_superseded=True,
            cursor=cursor,
            limit=service.limits.max_page_size,
        )
    )


# ---------------------------------------------------------------------------------------------------
# one memory: get, update, history, delete


def current(service: MemoryService, tenant_id: str, memory_id: str) -> Memory:
    """The memory, or the live version an update replaced it with (mem0 ids survive updates)."""
    memory = service.get_memory(tenant_id, memory_id)
    for _ in range(MAX_CHAIN):
        if memory.superseded_by is None:
            return memory
        try:
            memory = service.get_memory(tenant_id, memory.superseded_by)
        except NotFound:
            raise NotFound(f"memory {memory_id} was deleted") from None
    return memory


def update(
    service: MemoryService, tenant_id: str, memory_id: str, text: str | None, metadata: dict[str, Any] | None
) -> Memory:
    """New text → a revision (a new version superseding this one, waited for); metadata only → in place."""
    memory = current(service, tenant_id, memory_id)
    new_metadata = t.replaced_metadata(memory, metadata) if metadata is not None else None
    if text is None or text == memory.text:
        if new_metadata is None:
            return memory
        return service.update_memory_metadata(tenant_id, memory.id, new_metadata)
    submitted = service.revise_memory(tenant_id, memory.id, text, new_metadata)
    job = settled(service, tenant_id, submitted.job)
    if job.status is not JobStatus.SUCCEEDED:
        raise InvalidInput(
            f"the update of memory {memory_id} is still {job.status.value}; get it again later"
        )
    return current(service, tenant_id, memory.id)


def versions(service: MemoryService, tenant_id: str, memory_id: str) -> tuple[list[Memory], bool]:
    """Every version of the memory, oldest first, and whether the newest was deleted."""
    start = service.get_memory(tenant_id, memory_id)
    older: list[Memory] = []
    memory = start
    for _ in range(MAX_CHAIN):
        previous = memory.metadata.get(REVISES_KEY)
        if not isinstance(previous, str):
            break
        try:
            memory = service.get_memory(tenant_id, previous)
        except NotFound:
            break
        older.append(memory)
    chain = [*reversed(older), start]
    deleted = False
    for _ in range(MAX_CHAIN):
        successor = chain[-1].superseded_by
        if successor is None:
            break
        try:
            chain.append(service.get_memory(tenant_id, successor))
        except NotFound:
            deleted = True
            break
    return chain, deleted


def history(service: MemoryService, tenant_id: str, memory_id: str) -> list[dict[str, Any]]:
    chain, deleted = versions(service, tenant_id, memory_id)

    def said(memory: Memory) -> list[Event]:
        return service.source_events(tenant_id, memory)

    entries = [t.history_entry(memory_id, "ADD", None, chain[0], chain[0], said(chain[0]))]
    for old, new in itertools.pairwise(chain):
        entries.append(t.history_entry(memory_id, "UPDATE", old, new, new, said(new)))
    if deleted:
        entries.append(t.history_entry(memory_id, "DELETE", chain[-1], None, chain[-1]))
    return entries


def delete(service: MemoryService, tenant_id: str, memory_id: str, linked: bool) -> int:
    """Delete the memory (its live version); with ``linked``, the versions it replaced too. Returns how
    many of those older versions went."""
    memory = current(service, tenant_id, memory_id)
    older = versions(service, tenant_id, memory.id)[0][:-1] if linked else []
    service.delete_memory(tenant_id, memory.id)
    for version in older:
        try:
            service.delete_memory(tenant_id, version.id)
        except NotFound:
            continue
    return len(older)


# ---------------------------------------------------------------------------------------------------
# many memories: delete_all, entities


def delete_all(service: MemoryService, tenant_id: str, entities: Mapping[str, str]) -> int:
    """Delete what the entity ids select (``*`` = any); a lone user is forgotten whole (events too)."""
    if not entities:
        raise InvalidInput("delete_all needs one of user_id, agent_id, app_id or run_id ('*' for any)")
    if set(entities) == {"user_id"} and entities["user_id"] != "*":
        try:
            return service.forget_user(tenant_id, entities["user_id"])
        except NotFound:
            return 0
    flt = t.to_filter(dict(entities))
    return _delete_each(service, tenant_id, list(matching(service, tenant_id, flt)))


def _delete_each(service: MemoryService, tenant_id: str, memories: Sequence[Memory]) -> int:
    count = 0
    for memory in memories:
        try:
            service.delete_memory(tenant_id, memory.id)
            count += 1
        except NotFound:
            continue
    return count


def entities(service: MemoryService, tenant_id: str) -> list[dict[str, Any]]:
    """Runs (sessions) first, then users and the agents/apps/runs that own memories, each once.

    Runs come first so a client deleting the list in order (``delete_users()``, ``reset()``) forgets a
    run before the user its session belongs to, and never meets an entity already gone.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    page = service.limits.max_page_size
    for session in iter_items(lambda c: service.list_sessions(tenant_id, cursor=c, limit=page)):
        out[("run", session.id)] = _entity("run", session.id, t.iso(session.created_at), None)
    for user in iter_items(lambda c: service.list_users(tenant_id, cursor=c, limit=page)):
        kind, name = t.entity_of_owner(user.id)
        if (kind, name) not in out:
            out[(kind, name)] = _entity(kind, name, t.iso(user.created_at), user.memory_count)
    return list(out.values())


def _entity(kind: str, name: str, created: str, count: int | None) -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "type": kind,
        "created_at": created,
        "updated_at": created,
        "owner": None,
        "metadata": {},
        "total_memories": count,
    }


def delete_entity(service: MemoryService, tenant_id: str, kind: str, name: str) -> int:
    """Forget an entity: its memhub user (user, or agent/app/run that owned memories), its session (run),
    and every memory naming it. A name nothing refers to is a 404."""
    field = t.ENTITY_TYPES.get(kind)
    if field is None:
        raise InvalidInput(f"entity type must be one of {', '.join(t.ENTITY_TYPES)}, not {kind!r}")
    found = False
    count = 0
    owner = t.owner({field: name})
    try:
        count += service.forget_user(tenant_id, owner)
        found = True
    except NotFound:
        pass
    if kind == "run":
        try:
            service.get_session(tenant_id, name)
            count += service.delete_session(tenant_id, name)
            found = True
        except NotFound:
            pass
    named = list(matching(service, tenant_id, t.to_filter({field: name})))
    count += _delete_each(service, tenant_id, named)
    if not (found or named):
        raise NotFound(f"no {kind} named {name!r}")
    return count
