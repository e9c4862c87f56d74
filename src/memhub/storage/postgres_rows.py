"""Rows to models and models to rows for PostgreSQL: column lists and ``INSERT`` parameters.

psycopg returns ``timestamptz`` as aware datetimes and ``jsonb`` as Python values, and the column names
are the models' field names, so a row (a dict) validates straight into its model. Writes wrap JSON
values in :class:`~psycopg.types.json.Jsonb` and pass datetimes as they are (naive ones taken as UTC,
as ``codec.encode_time`` does for SQLite).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from psycopg.types.json import Jsonb

from memhub.core.models import ApiKey, Chunk, Event, Job, Memory, Record, SourceRef

from .columns import (
    MEMORY_COLUMNS,
)

MEMORY_INSERT_COLUMNS = MEMORY_COLUMNS.replace("m.", "")
CHUNK_COLUMNS = (
    "c.id, m.id AS memory_id, c.ordinal, c.text, c.dense_key, c.sparse_key,"
    ' c.start_offset AS start, c.end_offset AS "end"'
)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def api_key_params(key: ApiKey) -> tuple[Any, ...]:
    return (
        key.id,
        key.tenant_id,
        key.name,
        key.prefix,
        key.key_hash,
        utc(key.created_at),
        utc_or_none(key.revoked_at),
        key.role,
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
        Jsonb(event.metadata),
        utc(event.occurred_at),
        utc(event.created_at),
        event.job_id,
        event.position,
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
        utc_or_none(job.lease_expires_at),
        utc(job.created_at),
        utc(job.updated_at),
        Jsonb(job.memory_ids),
    )


def memory_params(memory: Memory, rid: int) -> tuple[Any, ...]:
    """In :data:`MEMORY_INSERT_COLUMNS` order, for binary ``COPY`` (metadata as JSON text)."""
    return (
        rid,
        memory.id,
        memory.tenant_id,
        memory.space_id,
        memory.user_id,
        memory.session_id,
        memory.kind.value,
        memory.core,
        memory.text,
        Jsonb(memory.metadata),
        utc(memory.occurred_at),
        utc(memory.created_at),
        utc(memory.updated_at),
        utc_or_none(memory.valid_from),
        utc_or_none(memory.valid_to),
        memory.superseded_by,
        memory.job_id,
    )


MEMORY_COPY_TYPES = [
    "bigint", "text", "text", "text", "text", "text", "text", "boolean", "text", "jsonb",
    "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "text", "text",
]  # fmt: skip


def memory_from_row(row: dict[str, Any], sources: list[SourceRef]) -> Memory:
    return Memory.model_validate({**row, "sources": sources})


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    return Chunk.model_validate(row)


def record_params(record: Record) -> tuple[Any, ...]:
    return (
        record.tenant_id,
        record.collection,
        record.id,
        Jsonb(record.data),
        utc(record.created_at),
        utc(record.updated_at),
    )
