"""Models to statement parameters, in the column order of ``columns.py``, for both stores.

The dialect encodes what differs (times, JSON); the order is the one the ``INSERT`` statements use.
"""

from __future__ import annotations

from typing import Any

from memhub.core.models import ApiKey, Chunk, Event, Job, Memory, Record, Session, Space

from .dialect import Dialect


def api_key_params(d: Dialect, key: ApiKey) -> tuple[Any, ...]:
    return (
        key.id,
        key.tenant_id,
        key.name,
        key.prefix,
        key.key_hash,
        d.time(key.created_at),
        d.time_or_none(key.revoked_at),
        key.role,
    )


def space_params(d: Dialect, space: Space) -> tuple[Any, ...]:
    return (space.id, space.tenant_id, space.name, d.json(space.metadata), d.time(space.created_at))


def session_params(d: Dialect, session: Session) -> tuple[Any, ...]:
    return (
        session.id,
        session.tenant_id,
        session.space_id,
        session.user_id,
        d.json(session.metadata),
        d.time(session.created_at),
    )


def event_params(d: Dialect, event: Event) -> tuple[Any, ...]:
    return (
        event.id,
        event.tenant_id,
        event.space_id,
        event.user_id,
        event.session_id,
        event.kind.value,
        event.role,
        event.name,
        event.content,
        event.external_id,
        d.json(event.metadata),
        d.time(event.occurred_at),
        d.time(event.created_at),
        event.job_id,
        event.position,
    )


def job_params(d: Dialect, job: Job) -> tuple[Any, ...]:
    return (
        job.id,
        job.tenant_id,
        job.space_id,
        job.user_id,
        job.kind.value,
        job.status.value,
        job.attempts,
        job.last_error,
        job.lease_owner,
        d.time_or_none(job.lease_expires_at),
        d.time(job.created_at),
        d.time(job.updated_at),
        d.json(job.memory_ids),
    )


def record_params(d: Dialect, record: Record) -> tuple[Any, ...]:
    return (
        record.tenant_id,
        record.collection,
        record.id,
        d.json(record.data),
        d.time(record.created_at),
        d.time(record.updated_at),
    )


def memory_params(d: Dialect, memory: Memory) -> tuple[Any, ...]:
    """In ``MEMORY_COLUMNS`` order (without the store's own row id)."""
    return (
        memory.id,
        memory.tenant_id,
        memory.space_id,
        memory.user_id,
        memory.session_id,
        memory.kind.value,
        memory.core,
        memory.text,
        d.json(memory.metadata),
        d.time(memory.occurred_at),
        d.time(memory.created_at),
        d.time(memory.updated_at),
        d.time_or_none(memory.valid_from),
        d.time_or_none(memory.valid_to),
        memory.superseded_by,
        memory.job_id,
    )


def chunk_params(chunk: Chunk, memory_rid: int) -> tuple[Any, ...]:
    """A chunk's columns from ``id`` to ``end_offset``; each store adds its own around them."""
    return (
        chunk.id,
        memory_rid,
        chunk.ordinal,
        chunk.text,
        chunk.dense_key,
        chunk.sparse_key,
        chunk.start,
        chunk.end,
    )
