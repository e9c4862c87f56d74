"""Turning a batch of claimed jobs into memories: extract, embed (with the vector cache), write.

Jobs are processed in batches so that embedding, which dominates ingestion time, runs over the texts of
many jobs at once (one model call instead of one per job). Every id written derives from the job id, so a
job retried after a crash writes the same rows again, never a second copy; the store only accepts the
outcome from the worker that still holds the job's lease.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from . import ids
from .errors import ModelRetired
from .fact_search import DenseFactFinder
from .models import (
    REVISES_KEY,
    VERBATIM_KEY,
    Chunk,
    Event,
    EventKind,
    Job,
    Memory,
    MemoryDraft,
    MemoryKind,
    Scope,
    SourceRef,
)
from .paging import iter_items
from .ports import Clock, Embedder, ExtractionContext, Extractor, JobOutcome, Store, StoredChunk, StoredMemory

log = logging.getLogger("memhub.processing")

CONTEXT_TURNS = 2  # earlier turns of the same session an extractor may use for keys
MAX_EXISTING_FACTS = 200


@dataclass
class BatchResult:
    """What happened to each job of a batch: finished, lost its lease, or failed with an error."""

    succeeded: list[str]
    lost: list[str]
    failed: dict[str, str]


class IngestProcessor:
    """Processes claimed jobs; used by the worker (``jobs.py``)."""

    def __init__(self, store: Store, embedder: Embedder, extractor: Extractor, clock: Clock) -> None:
        self._store = store
        self._embedder = embedder
        self._extractor = extractor
        self._clock = clock

    def process(self, jobs: Sequence[Job], owner: str) -> BatchResult:
        result = BatchResult([], [], {})
        outcomes: list[JobOutcome] = []
        facts = _FactsOfBatch(self._store)
        for job in jobs:
            try:
                outcomes.append(self._outcome(job, facts))
            except ModelRetired:  # not this job's fault: the whole worker must restart (jobs.py)
                raise
            except Exception as exc:  # one bad job must not sink the batch; the worker records why
                log.warning("job %s failed during extraction: %s", job.id, type(exc).__name__)
                result.failed[job.id] = f"{type(exc).__name__}: {exc}"
        self._embed(outcomes)
        now = self._clock.now()
        for outcome in outcomes:
            if self._store.complete_job(outcome, owner, now):
                result.succeeded.append(outcome.job_id)
            else:
                result.lost.append(outcome.job_id)
        return result

    def _outcome(self, job: Job, facts: _FactsOfBatch) -> JobOutcome:
        events = self._store.job_events(job.id)
        context = self._context(job, events, facts)
        drafts = _as_asked(events, self._extractor.extract(events, context))
        outcome = JobOutcome(job_id=job.id, model_id=self._embedder.model_id)
        now = self._clock.now()
        for ordinal, draft in enumerate(drafts):
            stored = _to_stored(job, events, draft, ordinal, now)
            outcome.memories.append(stored)
            if draft.supersedes:
                outcome.supersede[draft.supersedes] = stored.memory.id
        return outcome

    def _context(self, job: Job, events: list[Event], facts: _FactsOfBatch) -> ExtractionContext:
        context = ExtractionContext()
        if job.kind is EventKind.DOCUMENT or not events:
            return context
        session_id = events[0].session_id
        if session_id is not None:
            context.previous_events = self._previous_turns(job, session_id, events)
        if _verbatim(events):
            context.derive_facts = False  # no facts will be kept: neither load the known ones nor ask
        elif job.user_id is not None:
            scope = Scope(
                tenant_id=job.tenant_id,
                space_ids=[job.space_id],
                user_id=job.user_id,
                kinds=[MemoryKind.FACT],
            )
            context.existing_facts = facts.of(scope)
            context.similar_facts = DenseFactFinder(
                self._store, self._embedder, job.tenant_id, job.space_id, job.user_id
            )
        return context

    def _previous_turns(self, job: Job, session_id: str, events: list[Event]) -> list[Event]:
        mine = {e.id for e in events}
        first = events[0].occurred_at
        pages = iter_items(
            lambda cursor: self._store.list_events(
                job.tenant_id, session_id=session_id, kinds=[EventKind.MESSAGE], cursor=cursor, limit=500
            )
        )
        earlier = (e for e in pages if e.id not in mine and e.occurred_at <= first)
        return list(deque(earlier, maxlen=CONTEXT_TURNS))

    def _embed(self, outcomes: list[JobOutcome]) -> None:
        """Embed every dense key not already cached, across all jobs of the batch in one call."""
        wanted: dict[str, str] = {}
        for outcome in outcomes:
            for memory in outcome.memories:
                for stored in memory.chunks:
                    wanted.setdefault(stored.vector_hash, stored.chunk.dense_key)
        if not wanted:
            return
        cached = self._store.get_vectors(self._embedder.model_id, list(wanted))
        missing = [h for h in wanted if h not in cached]
        vectors = self._embedder.embed([wanted[h] for h in missing]) if missing else None
        fresh = {h: vectors[i] for i, h in enumerate(missing)} if vectors is not None else {}
        for outcome in outcomes:
            hashes = {c.vector_hash for m in outcome.memories for c in m.chunks}
            outcome.vectors = {h: fresh[h] for h in hashes if h in fresh}


def _verbatim(events: list[Event]) -> bool:
    return bool(events) and all(e.metadata.get(VERBATIM_KEY) for e in events)


class _FactsOfBatch:
    """A user's existing facts, loaded once per batch rather than once per job.

    A batch's outcomes are written only after all its jobs are extracted, so every job of a user in one
    batch would load the same facts again: 200 memories per job were ~15% of ingestion CPU with the
    fast model (``docs/decisions/speed-targets.md``). Each job gets its own copy of the list.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._loaded: dict[str, list[Memory]] = {}

    def of(self, scope: Scope) -> list[Memory]:
        key = scope.model_dump_json()
        if key not in self._loaded:
            self._loaded[key] = list(self._store.list_memories(scope, None, None, MAX_EXISTING_FACTS).items)
        return list(self._loaded[key])


def _as_asked(events: list[Event], drafts: list[MemoryDraft]) -> list[MemoryDraft]:
    """Honour a verbatim submission: its turns only, no facts; a revision's turn supersedes its target.

    Done here rather than in each extractor so every extractor (rules, LLM) obeys the same flags.
    """
    if not _verbatim(events):
        return drafts
    kept = [d for d in drafts if d.kind is not MemoryKind.FACT]
    target = events[0].metadata.get(REVISES_KEY)
    if isinstance(target, str) and kept:
        kept[0] = kept[0].model_copy(update={"supersedes": target})
    return kept


def _to_stored(
    job: Job, events: list[Event], draft: MemoryDraft, ordinal: int, now: datetime
) -> StoredMemory:
    sources = [events[p] for p in draft.source_positions if 0 <= p < len(events)] or events[:1]
    first = sources[0]
    memory_id = ids.derived_id(job.id, "memory", ordinal)
    memory = Memory(
        id=memory_id,
        tenant_id=job.tenant_id,
        space_id=job.space_id,
        user_id=job.user_id,
        session_id=first.session_id,
        kind=draft.kind,
        core=draft.core,
        text=draft.text,
        metadata={**first.metadata, **draft.metadata},
        sources=[SourceRef(event_id=e.id, external_id=e.external_id) for e in sources],
        occurred_at=first.occurred_at,
        created_at=now,
        updated_at=now,
        valid_from=first.occurred_at if draft.kind is MemoryKind.FACT else None,
        job_id=job.id,
    )
    chunks = [
        StoredChunk(
            chunk=Chunk(
                id=ids.derived_id(memory_id, "chunk", i),
                memory_id=memory_id,
                ordinal=i,
                text=c.text,
                dense_key=c.dense_key,
                sparse_key=c.sparse_key,
                start=c.start,
                end=c.end,
            ),
            vector_hash=ids.content_hash(c.dense_key, job.tenant_id),
        )
        for i, c in enumerate(draft.chunks)
    ]
    return StoredMemory(memory=memory, chunks=chunks)
