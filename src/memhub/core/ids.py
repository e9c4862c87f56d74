"""Identifiers: random where uniqueness is all we need, derived from content where idempotency needs it.

A submission's job id is a UUIDv5 of its canonical content, so the same input submitted twice lands on
the same job (and the store answers "already have it"). Event and memory ids derive from the job id and
their position, so a job that is retried after a crash writes the same ids again instead of duplicates.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

_NAMESPACE = uuid.UUID("6f0d7a52-8e57-4b0e-9c52-7d1c3f4a2b10")


def new_id() -> str:
    """A random UUID4 string."""
    return str(uuid.uuid4())


def derived_id(*parts: Any) -> str:
    """A UUIDv5 over the canonical JSON of ``parts``: same parts, same id; any difference, other id."""
    canonical = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return str(uuid.uuid5(_NAMESPACE, canonical))


def content_hash(text: str, tenant_id: str | None = None) -> str:
    """SHA-256 of the text: the key under which its vector is cached (per model).

    With ``tenant_id`` the key is the tenant's own: a cache shared by tenants would tell one tenant
    (through whether its write needed embedding, visible in timings and ``/metrics``) that another holds
    the very same text.
    """
    keyed = text if tenant_id is None else f"{tenant_id}\x1f{text}"
    return hashlib.sha256(keyed.encode("utf-8")).hexdigest()
