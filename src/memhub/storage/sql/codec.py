"""How values are written to and read from SQL columns: times, JSON, vectors.

Times are stored as fixed-width ISO-8601 UTC text (``2024-05-01T12:00:00.000000+00:00``): readable in a
SQL shell, and text order equals time order, so range conditions and keyset cursors compare strings.
Naive datetimes are taken to be UTC (the core's clock is timezone-aware UTC; this only guards callers
that forget). Vectors are little-endian float32 bytes, like simonw/llm's embeddings.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import numpy as np

from memhub.core.ports import Vector

_VECTOR_DTYPE = np.dtype("<f4")


def encode_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def decode_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def encode_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def decode_json(text: str) -> Any:
    return json.loads(text)


def normalised(vector: Any) -> Vector:
    """A 1-D float32 copy scaled to unit length (zero vectors stay zero): dot product is then cosine."""
    array = np.array(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(array))
    if norm > 0.0 and np.isfinite(norm):
        array /= norm
    return array


def encode_vector(vector: Vector) -> bytes:
    return np.ascontiguousarray(vector, dtype=_VECTOR_DTYPE).tobytes()


def decode_vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=_VECTOR_DTYPE).astype(np.float32)
