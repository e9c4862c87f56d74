"""SQLite rows to models and models to rows, where SQLite stores a value differently (text times and
JSON, integer booleans, ``start_offset``/``end_offset``); parameters shared with PostgreSQL are in
``sql/rows.py``.
"""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

from pydantic import BaseModel

from memhub.core.models import (
    Chunk,
    Memory,
    MemoryKind,
    SourceRef,
)

from ..sql.codec import (
    decode_json,
    decode_time,
    decode_time_or_none,
    encode_json,
    encode_time,
    encode_time_or_none,
)

M = TypeVar("M", bound=BaseModel)

CHUNK_COLUMNS = (
    "c.id, m.id AS memory_id, c.ordinal, c.text, c.dense_key, c.sparse_key, c.start_offset, c.end_offset"
)


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


_TIME_COLUMNS = frozenset(
    {"created_at", "updated_at", "occurred_at", "revoked_at", "lease_expires_at", "valid_from", "valid_to"}
)
_JSON_COLUMNS = frozenset({"metadata", "memory_ids", "data"})


def model_from_row(cls: type[M], row: sqlite3.Row) -> M:
    """The model a row of one of the plain tables holds: times and JSON are stored as text here, every
    other column is the model's field of the same name."""
    values: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 -- sqlite3.Row is not a mapping
        value = row[key]
        if value is not None and key in _TIME_COLUMNS:
            value = decode_time(value)
        elif key in _JSON_COLUMNS:
            value = decode_json(value)
        values[key] = value
    return cls(**values)


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
