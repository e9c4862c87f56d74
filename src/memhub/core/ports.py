"""The Protocols the core needs from the outside world: storage, embedding, extraction, reranking, time.

Backends implement these; ``runtime.py`` is the only module that picks concrete ones. The Store contract
is pinned by ``tests/storage/contract.py``, which every backend must pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .filters import Filter
from .models import (
    ApiKey,
    Blob,
    Chunk,
    Counts,
    Event,
    EventKind,
    Job,
    Memory,
    MemoryDraft,
    Page,
    Record,
    Scope,
    Session,
    Space,
    Tenant,
    User,
)

Vector = npt.NDArray[np.float32]
"""A 1-D float32 array; embedders return L2-normalised vectors so cosine is a dot product."""

Matrix = npt.NDArray[np.float32]
"""A 2-D float32 array, one normalised vector per row."""

MemoryOrder = Literal["created_at", "occurred_at"]
"""What a memory listing is ordered by (then by id): when memhub stored it, or when its source happened."""


@dataclass(frozen=True)
class ChunkHit:
    """A candidate from one retriever: the chunk, its memory, and the retriever's own score."""

    chunk_id: str
    memory_id: str
    score: float
    vector: Vector | None = field(default=None, compare=False, repr=False)
    """The chunk's stored vector (``chunk_vectors``'s, to the bit) when the retriever had it at hand
    (SQLite's in-memory dense index); None: read it with ``chunk_vectors`` if needed."""


@dataclass
class StoredChunk:
    """A chunk ready to be written, with the content hash of its dense key (vectors are shared by hash)."""

    chunk: Chunk
    vector_hash: str


@dataclass
class StoredMemory:
    """A memory ready to be written by :meth:`Store.complete_job`."""

    memory: Memory
    chunks: list[StoredChunk]


@dataclass
class JobOutcome:
    """Everything one finished job writes, atomically."""

    job_id: str
    memories: list[StoredMemory] = field(default_factory=list)
    supersede: dict[str, str] = field(default_factory=dict)  # old memory id -> new memory id
    vectors: dict[str, Vector] = field(default_factory=dict)  # vector_hash -> vector (new ones only)
    model_id: str | None = None  # the embedder that made the vectors; required when there are chunks

    def supersessions(self, now: datetime) -> list[tuple[str, str, datetime]]:
        """``(old id, new id, valid_to)`` for each supersession. An old fact stops being valid when its
        replacement starts to be (its ``valid_from``, else when it was said), not when the job happened
        to run: an imported history keeps its own dates. ``now`` only covers a replacement that is not
        in this outcome."""
        starts = {s.memory.id: s.memory.valid_from or s.memory.occurred_at for s in self.memories}
        return [(old, new, starts.get(new, now)) for old, new in self.supersede.items()]


@dataclass(frozen=True)
class VectorSpace:
    """Which embedding model a store searches with, and the one a ``memhub reindex`` is moving it to.

    ``active`` is None in a store no reindex has touched (its model is then whatever made its vectors,
    :meth:`Store.vector_models`); ``target`` is None unless a reindex is under way.
    """

    active: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class ChunkToEmbed:
    """A chunk still without a vector of the reindex's model: its row id (the walk's order), its tenant
    (vector hashes are per tenant) and the text its vector is made of."""

    rid: int
    tenant_id: str
    dense_key: str


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors. ``model_id`` names the vector space (stored with vectors)."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One row per text, L2-normalised float32."""
        ...


@dataclass(frozen=True)
class SimilarFact:
    """An existing live fact of the user and its cosine similarity to the text it was found for."""

    memory: Memory
    score: float


class FactFinder(Protocol):
    """Finds, for each text, the user's live facts most similar to it (best first, at most ``limit``)."""

    def __call__(self, texts: Sequence[str], limit: int) -> list[list[SimilarFact]]: ...


@dataclass
class ExtractionContext:
    """What an extractor may look at besides the new events: the user's related existing facts.

    ``similar_facts`` searches all of the user's live facts by meaning (the store's dense index), for
    extractors that reconcile what they extract with what is known; it is None when the job has no user.
    ``derive_facts`` is False for a verbatim submission (mem0's ``infer: false``, a text update): its
    facts would be dropped, so an extractor that pays for them (a model call) must not ask for any.
    """

    existing_facts: list[Memory] = field(default_factory=list)
    previous_events: list[Event] = field(default_factory=list)  # earlier turns of the same session
    similar_facts: FactFinder | None = None
    derive_facts: bool = True


@runtime_checkable
class Extractor(Protocol):
    """Derives memory drafts from the events of one job. Must keep provenance (``source_positions``)."""

    def extract(self, events: Sequence[Event], context: ExtractionContext) -> list[MemoryDraft]: ...


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant. Used to reorder fused candidates."""

    def rerank(self, query: str, passages: Sequence[str]) -> list[float] | None:
        """One score in [0, 1] per passage, in order; it becomes the result's ``rank_score``.

        ``None`` means "no opinion" (a reranker that may fail softly, e.g. a chat model's unusable
        reply): the results keep their fused order. A reranker that must not fail softly raises
        :class:`~memhub.core.errors.Unavailable` instead, and the search fails with it.
        """
        ...


@runtime_checkable
class Store(Protocol):
    """Durable storage of everything memhub holds. Every read is scoped to one tenant.

    Objects of another tenant behave exactly like missing ones (``NotFound``), so ids can't be probed.
    Methods that write do so atomically.
    """

    @property
    def backend(self) -> str:
        """Short name for ``/v1/info``: ``sqlite`` or ``postgresql``."""
        ...

    def close(self) -> None: ...

    def check_ready(self) -> None:
        """Touch the store (a query, and on SQLite the free disk space): raises
        :class:`~memhub.core.errors.Unavailable` when requests would fail now. For ``/ready``."""
        ...

    # --- tenants and keys -------------------------------------------------------------------------
    def ensure_tenant(self, name: str, now: datetime) -> Tenant: ...
    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def find_tenant(self, name: str) -> Tenant | None: ...
    def list_tenants(self) -> list[Tenant]: ...
    def add_api_key(self, key: ApiKey) -> None: ...
    def find_api_key(self, key_hash: str) -> ApiKey | None: ...
    def list_api_keys(self, tenant_id: str | None = None) -> list[ApiKey]: ...
    def revoke_api_key(self, key_id: str, now: datetime) -> ApiKey: ...

    # --- spaces -----------------------------------------------------------------------------------
    def create_space(self, space: Space) -> Space: ...
    def get_space(self, tenant_id: str, space_id: str) -> Space: ...
    def find_space(self, tenant_id: str, name: str) -> Space | None: ...
    def list_spaces(self, tenant_id: str) -> list[Space]: ...
    def delete_space(self, tenant_id: str, space_id: str) -> None: ...
    def update_space(self, space: Space) -> Space:
        """Replace ``name`` and ``metadata`` of an existing space (:class:`Conflict` on a taken name)."""
        ...

    # --- users and sessions -----------------------------------------------------------------------
    def get_user(self, tenant_id: str, user_id: str) -> User: ...
    def list_users(self, tenant_id: str, cursor: str | None, limit: int) -> Page: ...
    def delete_user(self, tenant_id: str, user_id: str) -> int:
        """Cascade: memories, chunks, events, jobs, sessions of the user. Returns memories deleted."""
        ...

    def delete_session(self, tenant_id: str, session_id: str) -> int:
        """Cascade: the session's memories (with chunks), events and jobs, and the session itself.

        Returns memories + events deleted; an unknown session deletes nothing and returns 0. Memories
        outside the session that a deleted memory had superseded are treated as by ``delete_memory``.
        """
        ...

    def create_session(self, session: Session) -> Session: ...
    def get_session(self, tenant_id: str, session_id: str) -> Session: ...
    def list_sessions(self, tenant_id: str, user_id: str | None, cursor: str | None, limit: int) -> Page: ...

    # --- ingestion --------------------------------------------------------------------------------
    def submit(self, job: Job, events: list[Event]) -> tuple[Job, bool]:
        """Store the events and their job in one transaction.

        Idempotent on ``job.id``: if that job exists, nothing is written and ``(existing, False)`` is
        returned — unless it had failed, in which case it is reset to pending and ``(job, True)``
        returned. Creates the user (and the session, if events name one) on first reference.
        """
        ...

    def submit_many(self, submissions: Sequence[tuple[Job, list[Event]]]) -> list[tuple[Job, bool]]:
        """:meth:`submit` each ``(job, events)`` in order, all in one transaction (all or nothing).

        A job id repeated within the batch behaves as a resubmission of the earlier one.
        """
        ...

    def list_events(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        kinds: list[EventKind] | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """Events oldest first (by ``occurred_at``, then submission order)."""
        ...

    def job_events(self, job_id: str) -> list[Event]: ...

    # --- jobs -------------------------------------------------------------------------------------
    def get_job(self, tenant_id: str, job_id: str) -> Job: ...
    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        """The tenant's jobs among ``job_ids``, by id, in one round trip; unknown ids are left out."""
        ...

    def claim_jobs(self, owner: str, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        """Lease up to ``limit`` jobs that are pending, or processing with an expired lease."""
        ...

    def complete_job(self, outcome: JobOutcome, owner: str, now: datetime) -> bool:
        """Write the outcome and mark the job succeeded, if ``owner`` still holds its lease."""
        ...

    def fail_job(self, job_id: str, owner: str, error: str, now: datetime, *, retry: bool) -> None:
        """Record the error; ``retry`` puts the job back to pending, otherwise it ends failed."""
        ...

    def release_jobs(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (graceful shutdown): its jobs become pending."""
        ...

    def renew_leases(self, owner: str, job_ids: Sequence[str], lease_until: datetime) -> list[str]:
        """Extend to ``lease_until`` the leases ``owner`` still holds among ``job_ids``; returns those ids.

        A worker whose batch outlasts one lease (a slow LLM) renews while it works, so no other worker
        takes its jobs over; a lease that has expired but was not taken over yet is still ``owner``'s.
        """
        ...

    # --- memories ---------------------------------------------------------------------------------
    def get_memory(self, tenant_id: str, memory_id: str) -> Memory: ...
    def get_memories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, Memory]: ...
    def get_chunks(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]: ...
    def sparse_keys(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
        """``get_chunks``'s ``sparse_key`` alone (chunk id -> key): a search reads the head's keys only."""
        ...

    def memory_chunks(self, tenant_id: str, memory_id: str) -> list[Chunk]: ...
    def list_memories(
        self,
        scope: Scope,
        flt: Filter | None,
        cursor: str | None,
        limit: int,
        newest_first: bool = True,
        order_by: MemoryOrder = "created_at",
    ) -> Page:
        """Keyset pages ordered by ``(order_by, id)``, both descending when ``newest_first``."""
        ...

    def count_memories(self, scope: Scope, flt: Filter | None) -> int:
        """How many memories :meth:`list_memories` lists for ``scope`` and ``flt`` (one count query)."""
        ...

    def update_memory_metadata(
        self, tenant_id: str, memory_id: str, metadata: dict[str, object], now: datetime
    ) -> Memory: ...
    def delete_memory(self, tenant_id: str, memory_id: str) -> None:
        """With its chunks and sources. Memories it had superseded stay superseded: deleting never
        brings an older version back (their ``superseded_by`` then names a memory that is gone)."""
        ...

    def counts(self, tenant_id: str | None = None) -> Counts: ...

    # --- records (small per-tenant configuration objects, see models.Record) ----------------------
    def add_record(self, record: Record) -> Record:
        """Insert; :class:`Conflict` if the tenant's collection already holds that id."""
        ...

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record: ...
    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        """The collection's records, oldest first (``created_at``, then ``id``)."""
        ...

    def page_records(
        self,
        tenant_id: str,
        collection: str,
        *,
        where: Mapping[str, str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page:
        """Keyset pages of the collection in :meth:`list_records` order (reversed when ``newest_first``),
        keeping only records whose ``data[key]`` is the string ``value`` for every ``where`` item
        (keys are plain identifiers; a non-string value at the key never matches)."""
        ...

    def update_record(self, record: Record) -> Record:
        """Replace ``data`` and ``updated_at`` of an existing record (:class:`NotFound` if none)."""
        ...

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None: ...

    # --- blobs (bytes kept verbatim for an owner, see models.Blob) ---------------------------------
    def put_blob(self, blob: Blob) -> Blob:
        """Insert or replace the owner's blob of that name."""
        ...

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob: ...
    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        """The owner's blobs by name, without their ``data``."""
        ...

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        """Delete every blob of the owner; returns how many there were."""
        ...

    # --- vectors and search -----------------------------------------------------------------------
    def get_vectors(self, model_id: str, hashes: Sequence[str]) -> dict[str, Vector]:
        """Cached vectors by content hash: texts whose hash is here are never embedded again."""
        ...

    def chunk_vectors(
        self, model_id: str, chunk_ids: Sequence[str], tenant_id: str | None = None
    ) -> dict[str, Vector]:
        """The stored vectors of these chunks by ``model_id`` (chunks without one are left out).
        ``tenant_id``, when the caller knows the chunks' tenant, lets a store answer from that tenant's
        in-memory index; the answer is the same."""
        ...

    def vector_models(self) -> list[str]:
        """The embedding models this store holds vectors of, sorted (read off the vector table's key, so
        it costs one index probe per model, not a scan, however large the store)."""
        ...

    # --- switching the embedding model (``memhub reindex``, core/reindex.py) ----------------------------
    def vector_space(self) -> VectorSpace: ...
    def begin_reindex(self, active: str | None, target: str) -> None:
        """Record that ``target``'s vectors are being made beside ``active``'s (which keep serving).
        From now on a job outcome is accepted with vectors of either model only."""
        ...

    def reindex_progress(self, model_id: str) -> tuple[int, int]:
        """(chunks with a vector of ``model_id``, all chunks)."""
        ...

    def chunks_to_embed(self, model_id: str, after: int, limit: int) -> list[ChunkToEmbed]:
        """Up to ``limit`` chunks with a row id above ``after`` and no vector of ``model_id``, by row id."""
        ...

    def add_chunk_vectors(
        self, model_id: str, vectors: Mapping[str, Vector], links: Sequence[tuple[int, str]]
    ) -> None:
        """Store ``vectors`` (by hash) and link each chunk ``(rid, hash)`` to its vector of ``model_id``;
        a chunk deleted meanwhile is skipped, one already linked keeps its link."""
        ...

    def finish_reindex(self, model_id: str) -> int:
        """Atomically, unless a chunk still lacks a vector of ``model_id`` (then: how many do, and
        nothing changes): make ``model_id`` the active model, drop every other model's vectors, end the
        reindex; returns 0. Writers are excluded meanwhile, so no chunk is written in between."""
        ...

    def keyword_search(self, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
        """Best keyword (BM25-like, higher is better) matches among the scope's live chunks."""
        ...

    def vector_search(
        self, scope: Scope, flt: Filter | None, model_id: str, vector: Vector, limit: int
    ) -> list[ChunkHit]:
        """Exact or approximate nearest chunks by cosine (score = cosine), within the scope."""
        ...
