"""``MemoryService``: every use case of memhub, in one place, over the ports.

Every API surface (native HTTP, the four protocol adapters, MCP, the console, the embedded client) is a
thin adapter that parses its input, calls one method here and serialises the result. Nothing in here
knows about HTTP or SQL. Every method takes the caller's ``tenant_id`` first; the store enforces it.

The class is composed of one mixin per group of use cases, each in its own module (why mixins, and how
they share state: ``service_base.py``):

- ``service_tenancy``: tenants, API keys, spaces
- ``service_ingest``: ``add_*`` / ``prepare_*`` (messages, actions, documents)
- ``service_jobs``: ``submit_all``, jobs, idempotency keys
- ``service_memories``: search and memories
- ``service_sessions``: users, sessions, messages
- ``service_records``: records and blobs

The names other modules import from here (``Limits``, ``Submitted``, ``DEFAULT_SPACE``, …) are
re-exported, so ``memhub.core.service`` stays the one import for callers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .keycache import KeyCache
from .models import Counts
from .ports import Clock, Embedder, Reranker, Store
from .retrieval import Retriever
from .service_base import DEFAULT_SPACE, Limits
from .service_ingest import IngestMixin
from .service_jobs import Submission, Submitted
from .service_memories import RECALL_KEY, MemoriesMixin
from .service_records import RecordsMixin
from .service_sessions import SessionsMixin
from .service_tenancy import KEY_PREFIX, TenancyMixin, hash_api_key

__all__ = [
    "DEFAULT_SPACE",
    "KEY_PREFIX",
    "RECALL_KEY",
    "Limits",
    "MemoryService",
    "Submission",
    "Submitted",
    "hash_api_key",
]


class MemoryService(TenancyMixin, IngestMixin, MemoriesMixin, SessionsMixin, RecordsMixin):
    """The use cases. Construct once per process (``runtime.py``) and share between threads."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        clock: Clock,
        *,
        reranker: Reranker | None = None,
        limits: Limits | None = None,
        on_submitted: Callable[[], None] | None = None,
        key_cache: KeyCache | None = None,
    ) -> None:
        self.store = store
        self._keys = key_cache or KeyCache()
        self._on_submitted = on_submitted
        self.embedder = embedder
        self.clock = clock
        self.limits = limits or Limits()
        self._retriever = Retriever(store, embedder, clock, reranker)

    # ------------------------------------------------------------------------------------------
    # information

    def counts(self, tenant_id: str | None = None) -> Counts:
        return self.store.counts(tenant_id)

    def now(self) -> datetime:
        return self.clock.now()
