"""Rows to models and models to rows for PostgreSQL: column lists and ``INSERT`` parameters.

psycopg returns ``timestamptz`` as aware datetimes and ``jsonb`` as Python values, and the column names
are the models' field names, so a row (a dict) validates straight into its model. Writes wrap JSON
values in :class:`~psycopg.types.json.Jsonb` and pass datetimes as they are (naive ones taken as UTC,
as ``codec.encode_time`` does for SQLite).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from memhub.core.models import Chunk, Memory, SourceRef

from ..sql.columns import (
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


MEMORY_COPY_TYPES = [
    "bigint", "text", "text", "text", "text", "text", "text", "boolean", "text", "jsonb",
    "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "text", "text",
]  # fmt: skip


def memory_from_row(row: dict[str, Any], sources: list[SourceRef]) -> Memory:
    return Memory.model_validate({**row, "sources": sources})


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    return Chunk.model_validate(row)
