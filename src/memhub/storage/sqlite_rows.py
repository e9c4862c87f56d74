"""Rows to models and models to rows: the one place that knows column names and encodings.

Each table has its column list (used in ``SELECT``) and a function that builds the model from a
``sqlite3.Row``; writes take their parameters from the ``*_params`` functions, in the same order as the
``INSERT`` statements that use them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from memhub.core.models import (
    ApiKey,
    Chunk,
    Event,
    EventKind,
    Job,
    JobStatus,
    Memory,
    MemoryKind,
    Record,
    Session,
    SourceRef,
    Space,
    Tenant,
    User,
)

from .codec import (
    decode_json,
    decode_time,
    decode_time_or_none,
    encode_json,
    encode_time,
    encode_time_or_none,
)

CHUNK_COLUMNS = (
    "c.id, m.id AS memory_id, c.ordinal, c.text, c.dense_key, c.sparse_key, c.start_offset, c.end_offset"
)


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def tenant_from_row(row: sqlite3.Row) -> Tenant:
    return Tenant(id=row["id"], name=row["name"], created_at=decode_time(row["created_at"]))


def api_key_from_row(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        created_at=decode_time(row["created_at"]),
        revoked_at=decode_time_or_none(row["revoked_at"]),
        role=row["role"],
    )


def api_key_params(key: ApiKey) -> tuple[Any, ...]:
    return (
        key.id,
        key.tenant_id,
        key.name,
        key.prefix,
        key.key_hash,
        encode_time(key.created_at),
        encode_time_or_none(key.revoked_at),
        key.role,
    )


def space_from_row(row: sqlite3.Row) -> Space:
    return Space(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        metadata=decode_json(row["metadata"]),
        created_at=decode_time(row["created_at"]),
    )


def user_from_row(row: sqlite3.Row) -> User:
    return User(
        tenant_id=row["tenant_id"],
        id=row["id"],
        created_at=decode_time(row["created_at"]),
        memory_count=row["memory_count"],
    )


def session_from_row(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        tenant_id=row["tenant_id"],
        space_id=row["space_id"],
        user_id=row["user_id"],
        metadata=decode_json(row["metadata"]),
        created_at=decode_time(row["created_at"]),
    )


def event_from_row(row: sqlite3.Row) -> Event:
    return Event(
        id=row["id"],
        tenant_id=row["tenant_id"],
        space_id=row["space_id"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        kind=EventKind(row["kind"]),
        role=row["role"],
        name=row["name"],
        content=row["content"],
        external_id=row["external_id"],
        metadata=decode_json(row["metadata"]),
        occurred_at=decode_time(row["occurred_at"]),
        created_at=decode_time(row["created_at"]),
        job_id=row["job_id"],
        position=row["position"],
    )


def event_params(event: Event) -> tuple[Any, ...]:
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
        encode_json(event.metadata),
        encode_time(event.occurred_at),
        encode_time(event.created_at),
        event.job_id,
        event.position,
    )


def job_from_row(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        tenant_id=row["tenant_id"],
        space_id=row["space_id"],
        user_id=row["user_id"],
        kind=EventKind(row["kind"]),
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        lease_owner=row["lease_owner"],
        lease_expires_at=decode_time_or_none(row["lease_expires_at"]),
        created_at=decode_time(row["created_at"]),
        updated_at=decode_time(row["updated_at"]),
        memory_ids=decode_json(row["memory_ids"]),
    )


def job_params(job: Job) -> tuple[Any, ...]:
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
        encode_time_or_none(job.lease_expires_at),
        encode_time(job.created_at),
        encode_time(job.updated_at),
        encode_json(job.memory_ids),
    )


def memory_from_row(row: sqlite3.Row, sources: list[SourceRef]) -> Memory:
    return Memory(
        id=row["id"],
        tenant_id=row["tenant_id"],
        space_id=row["space_id"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        kind=MemoryKind(row["kind"]),
        core=bool(row["core"]),
        text=row["text"],
        metadata=decode_json(row["metadata"]),
        sources=sources,
        occurred_at=decode_time(row["occurred_at"]),
        created_at=decode_time(row["created_at"]),
        updated_at=decode_time(row["updated_at"]),
        valid_from=decode_time_or_none(row["valid_from"]),
        valid_to=decode_time_or_none(row["valid_to"]),
        superseded_by=row["superseded_by"],
        job_id=row["job_id"],
    )


def memory_params(memory: Memory) -> tuple[Any, ...]:
    return (
        memory.id,
        memory.tenant_id,
        memory.space_id,
        memory.user_id,
        memory.session_id,
        memory.kind.value,
        int(memory.core),
        memory.text,
        encode_json(memory.metadata),
        encode_time(memory.occurred_at),
        encode_time(memory.created_at),
        encode_time(memory.updated_at),
        encode_time_or_none(memory.valid_from),
        encode_time_or_none(memory.valid_to),
        memory.superseded_by,
        memory.job_id,
    )


def chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(
        id=row["id"],
        memory_id=row["memory_id"],
        ordinal=row["ordinal"],
        text=row["text"],
        dense_key=row["dense_key"],
        sparse_key=row["sparse_key"],
        start=row["start_offset"],
        end=row["end_offset"],
    )


def chunk_params(chunk: Chunk, memory_rid: int, scope_key: str) -> tuple[Any, ...]:
    return (
        chunk.id,
        memory_rid,
        chunk.ordinal,
        chunk.text,
        chunk.dense_key,
        chunk.sparse_key,
        chunk.start,
        chunk.end,
        scope_key,
    )


def record_from_row(row: sqlite3.Row) -> Record:
    return Record(
        tenant_id=row["tenant_id"],
        collection=row["collection"],
        id=row["id"],
        data=decode_json(row["data"]),
        created_at=decode_time(row["created_at"]),
        updated_at=decode_time(row["updated_at"]),
    )


def record_params(record: Record) -> tuple[Any, ...]:
    return (
        record.tenant_id,
        record.collection,
        record.id,
        encode_json(record.data),
        encode_time(record.created_at),
        encode_time(record.updated_at),
    )
