"""Re-embedding a store with another model (``memhub reindex``), while it keeps serving the old one.

The new model's vectors are written beside the old ones, a batch of chunks at a time; searches go on
ranking the old vectors. The store switches its active model only when every chunk has a new vector
(:meth:`Store.finish_reindex`, atomic, writers excluded), then drops the old vectors.

- **Resumable**: what is done is what the store holds — chunks with a vector of the new model — so a
  run that was killed, or stopped after ``max_batches``, continues with the chunks still without one.
- **Concurrent ingestion**: workers still on the old model go on writing chunks during the reindex;
  when a walk over the chunks ends, the switch counts the chunks still missing a new vector under the
  writers' lock, and another walk embeds them; a writer on the old model after the switch is refused
  by the store (``ModelRetired``) and leaves its jobs to a worker on the new model.
- Vectors are cached by (model, per-tenant content hash) as ingestion does (``processing.py``), so a text
  repeated across chunks is embedded once, and a resumed run reuses vectors a killed one stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import ids
from .errors import Conflict, Unavailable
from .ports import ChunkToEmbed, Embedder, Store

DEFAULT_BATCH = 256
"""Chunks per batch: one embedding call and one write transaction each."""

MAX_IDLE_WALKS = 5
"""Walks in a row that find nothing to embed while the switch still counts missing vectors before
giving up (a concurrent writer racing every walk; another run finishes the job)."""


class NothingToReindex(Conflict):
    """The store already uses the configured model."""

    code = "nothing_to_reindex"


@dataclass(frozen=True)
class ReindexPlan:
    """What a run will do: from which model(s) to which, and how far a previous run got."""

    sources: list[str]
    target: str
    done: int
    total: int


@dataclass(frozen=True)
class ReindexResult:
    embedded: int  # texts this run embedded (cached vectors reused are not counted)
    chunks: int  # chunks this run linked to a new vector
    switched: bool  # the store now uses the target model


class Reindexer:
    """Embeds every chunk of ``store`` with ``embedder`` and switches the store to it (module docstring)."""

    def __init__(self, store: Store, embedder: Embedder, batch_size: int = DEFAULT_BATCH) -> None:
        self._store = store
        self._embedder = embedder
        self._batch = batch_size
        self._target = embedder.model_id

    def plan(self) -> ReindexPlan:
        """What :meth:`run` would do; :class:`NothingToReindex` when the store already uses the model."""
        space = self._store.vector_space()
        sources = [m for m in self._store.vector_models() if m != self._target]
        if space.target != self._target and (space.active or self._target) == self._target and not sources:
            raise NothingToReindex(
                f"the store already uses {self._target}: nothing to reindex (to switch to another model, "
                "set --embed-model / MEMHUB_EMBED_MODEL to it and run `memhub reindex` again)"
            )
        if space.target is not None and space.target != self._target:
            done, total = self._store.reindex_progress(space.target)
            raise Conflict(
                f"a reindex to {space.target} is under way ({done:,} of {total:,} chunks): finish it first "
                f"(`memhub reindex` with --embed-model {space.target}), then reindex to {self._target}"
            )
        done, total = self._store.reindex_progress(self._target)
        return ReindexPlan(sources=sources, target=self._target, done=done, total=total)

    def run(
        self, on_batch: Callable[[int], None] | None = None, max_batches: int | None = None
    ) -> ReindexResult:
        """Embed what is missing (``on_batch(chunks)`` after each batch), then switch; stop early after
        ``max_batches`` batches (``switched`` is then False and a next run continues)."""
        plan = self.plan()
        active = plan.sources[0] if len(plan.sources) == 1 else None
        self._store.begin_reindex(active, self._target)
        embedded = linked = batches = idle = 0
        while True:
            after = 0
            walked = 0
            while max_batches is None or batches < max_batches:
                chunks = self._store.chunks_to_embed(self._target, after, self._batch)
                if not chunks:
                    break
                embedded += self._embed(chunks)
                linked += len(chunks)
                walked += len(chunks)
                batches += 1
                after = chunks[-1].rid
                if on_batch is not None:
                    on_batch(len(chunks))
            else:
                return ReindexResult(embedded=embedded, chunks=linked, switched=False)
            if self._store.finish_reindex(self._target) == 0:
                return ReindexResult(embedded=embedded, chunks=linked, switched=True)
            idle = 0 if walked else idle + 1
            if idle >= MAX_IDLE_WALKS:
                raise Unavailable("chunks keep arriving without a vector of the new model; run it again")

    def _embed(self, chunks: list[ChunkToEmbed]) -> int:
        hashes = [ids.content_hash(chunk.dense_key, chunk.tenant_id) for chunk in chunks]
        texts = dict(zip(hashes, (chunk.dense_key for chunk in chunks), strict=True))
        cached = self._store.get_vectors(self._target, list(texts))
        missing = [h for h in texts if h not in cached]
        fresh = {}
        if missing:
            vectors = self._embedder.embed([texts[h] for h in missing])
            fresh = {h: vectors[i] for i, h in enumerate(missing)}
        links = [(chunk.rid, h) for chunk, h in zip(chunks, hashes, strict=True)]
        self._store.add_chunk_vectors(self._target, fresh, links)
        return len(missing)
