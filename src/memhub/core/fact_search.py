"""Finding a user's existing facts by meaning, for extractors that reconcile new facts with old ones.

An extractor sees the events of one job; to decide whether "User moved to Porto" replaces "User lives in
Lisbon" it needs the user's facts that *mean* something close, which a slot name or a keyword cannot
find. :class:`DenseFactFinder` embeds the new fact texts (one embedder call) and asks the store's dense
index for the nearest live facts of the same user in the same space. It is handed to the extractor in
:class:`~memhub.core.ports.ExtractionContext` so extractors never see the store or the embedder.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import MemoryKind, Scope
from .ports import Embedder, SimilarFact, Store, Vector


class DenseFactFinder:
    """Implements :class:`~memhub.core.ports.FactFinder` over a store's dense index."""

    def __init__(self, store: Store, embedder: Embedder, tenant_id: str, space_id: str, user_id: str) -> None:
        self._store = store
        self._embedder = embedder
        self._scope = Scope(
            tenant_id=tenant_id, space_ids=[space_id], user_id=user_id, kinds=[MemoryKind.FACT]
        )

    def __call__(self, texts: Sequence[str], limit: int) -> list[list[SimilarFact]]:
        if not texts:
            return []
        vectors = self._embedder.embed(list(texts))
        return [self._nearest(vectors[row], limit) for row in range(len(texts))]

    def _nearest(self, vector: Vector, limit: int) -> list[SimilarFact]:
        hits = self._store.vector_search(self._scope, None, self._embedder.model_id, vector, limit)
        memories = self._store.get_memories(self._scope.tenant_id, [hit.memory_id for hit in hits])
        best: dict[str, SimilarFact] = {}
        for hit in hits:  # best first; a memory with several chunks keeps its best one
            memory = memories.get(hit.memory_id)
            if memory is not None and hit.memory_id not in best:
                best[hit.memory_id] = SimilarFact(memory=memory, score=hit.score)
        return list(best.values())
