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
)

from ..sql.codec import (
    decode_json,
    decode_time,
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


def model_from_row(cls: type[M], row: sqlite3.Row, **extra: Any) -> M:
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
    return cls(**values, **extra)


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
