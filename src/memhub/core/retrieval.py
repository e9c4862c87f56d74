"""Hybrid retrieval: candidates from dense and keyword search, scored for relevance, thresholded, reranked.

1. Each retriever brings its own candidates (chunks) from the scope, over-fetched so the ranking has a
   pool. Every candidate gets an exact cosine against the query (keyword-only candidates too).
2. Every candidate gets its features (``relevance.py``: standardised and raw cosine and BM25, each
   retriever's rank) and the relevance model's logit. Query signals join for the head of the
   ranking, from the memories themselves (and the text signals of ``relevance.py``):

   * **named speaker**: the query names the memory's speaker (the ``speaker`` metadata the rule
     extractor keeps from a message's ``name``). "What did Alice say about the trip?" is about Alice's
     turns, yet her name is in neither her turn's text nor, reliably, its nearest embedding
     neighbours. The names come from the memories, so nothing is hard-coded, and a query naming no
     speaker leaves the ranking unchanged. A query that names one is also compared by its topic: the model's
     cosine uses the query vector without the names' direction (``_drop_named``), since the name is in
     every turn's key and would otherwise count twice.
   * **named date**: the memory happened on the day / in the month / year the query names ("on 13
     October 2023", "in May 2023"), with a day of slack.
   * **says when**: the query asks about time ("When did ...", "What year ...") and the memory's text
     places something in time ("last week", "in 2019", "for 3 years"): the turn that answers "when"
     usually says when, while its neighbours on the same subject do not.

3. Hybrid results are ordered by that logit (the fitted fusion of the signals); dense-only and
   keyword-only keep their retriever's order. Chunks collapse to their memory (best chunk wins); an
   optional recency bonus and an optional reranker reorder.
4. ``score`` is the logit's probability, the calibrated chance that the memory is relevant, and
   ``threshold`` applies to it; ``similarity`` is the raw cosine.

What each signal and each alternative measured on ``memhub bench locomo`` (kept and not kept) is in
``docs/decisions/``: ``relevance-score.md`` (the fitted score and fusion) and ``retrieval-signals.md``
(speaker, date, diversity, neighbours, sessions).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from .filters import Filter
from .models import Chunk, Memory, MemoryKind, Scope, SearchMode, SearchRequest, SearchResult
from .ports import ChunkHit, Clock, Embedder, Reranker, Store, Vector
from .ranking import (
    asks_when,
    content_words,
    date_range,
    names_in,
    recency_bonus,
    share_found,
    tells_when,
    word_count,
)
from .relevance import DEFAULT_MODELS, QUERY_SIGNALS, TEXT_SIGNALS, RelevanceModel, probability

DATE_SLACK = timedelta(days=1)
EMBED_THREADS = 4  # query embeddings running beside keyword searches (one per concurrent search)
SPEAKER_KEY = "speaker"
"""Memory metadata naming who said it (set by the rule extractor from a message's ``name``)."""
LENGTH_HALF = 20
"""The text length (in words) at which the ``length`` signal is 0.5."""
RECENCY_WEIGHT = 1.0
"""Scale of the recency bonus in ``rank_score``, multiplied by the request's ``recency_weight``."""

MAX_NAME_VECTORS = 4096
"""Speakers' name vectors kept per process (emptied when full): a name is embedded about once."""

MIN_POOL = 100
"""Candidates each retriever brings, and memories the query signals read, whatever the limit: with 50, a
search asking for 10 results ranked them 1.0 point of held-out Rall@10 worse than one asking for 20
(``docs/decisions/retrieval-signals.md``). Larger limits get 5× the limit."""

KEYWORD_NOISE = 0.5
"""BM25 below this is no evidence and earns no keyword rank: a word in nearly every chunk of a small
store ("user", the speaker label in every key) scores about 0, and ranking such hits would hand the
first of them a full rank bonus. In LoCoMo's pools 0.03 % of keyword hits are below it."""


@dataclass
class _Candidate:
    chunk_id: str
    memory_id: str
    cosine: float
    keyword: float
    features: dict[str, float] = field(default_factory=dict)
    logit: float = 0.0
    topic_cosine: float | None = None
    """The cosine with the query's speaker names left out, when it names one (``_drop_named``)."""
    vector: Vector | None = None
    """The chunk's stored vector when the search already has it (keyword hits; dense hits when the
    store's dense search hands them back, ``ChunkHit.vector``), else None."""

    @property
    def ranking_cosine(self) -> float:
        """The cosine the relevance model sees: the topic's when there is one, else the raw one."""
        return self.cosine if self.topic_cosine is None else self.topic_cosine


class Retriever:
    """Runs one search over a scope. Stateless apart from its collaborators."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        clock: Clock,
        reranker: Reranker | None = None,
        models: Mapping[SearchMode, RelevanceModel] | None = None,
        pool_factor: int = 5,
        min_pool: int = MIN_POOL,
        head_factor: int = 5,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._clock = clock
        self._reranker = reranker
        self._models = {**DEFAULT_MODELS, **(models or {})}
        self._pool_factor = pool_factor
        self._min_pool = min_pool
        self._head_factor = head_factor
        self._embedding_pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._name_vectors: dict[tuple[str, str], Vector] = {}
        self._names_lock = threading.Lock()

    @property
    def reranker(self) -> Reranker | None:
        """The reranker used when a search asks for one and brings none of its own."""
        return self._reranker

    def search(
        self, scope: Scope, flt: Filter | None, request: SearchRequest, reranker: Reranker | None = None
    ) -> list[SearchResult]:
        """The best ``request.limit`` results; ``reranker`` (else the retriever's own) with ``rerank``."""
        reranker = (reranker or self._reranker) if request.rerank else None
        candidates, memories = self.score_candidates(scope, flt, request)
        if not candidates:
            return []
        ranked = _order(candidates, request.mode)
        best = _best_chunk_per_memory(ranked, candidates)
        if request.threshold is not None:
            best = [c for c in best if probability(candidates[c].logit) >= request.threshold]
        reorders = request.recency_weight > 0 or reranker is not None
        if not reorders:
            best = best[: request.limit]  # fetch only what will be returned
        missing = [candidates[c].memory_id for c in best if candidates[c].memory_id not in memories]
        if missing:
            memories.update(self._store.get_memories(scope.tenant_id, missing))
        results = self._results(best, candidates, ranked, memories, scope.tenant_id)
        if request.recency_weight > 0:
            results = self._apply_recency(results, request.recency_weight)
        if reranker is not None:
            results = _rerank(reranker, request.query, results)
        return results[: request.limit]

    def score_candidates(
        self, scope: Scope, flt: Filter | None, request: SearchRequest
    ) -> tuple[dict[str, _Candidate], dict[str, Memory]]:
        """Every candidate with its features and relevance logit; the memories loaded on the way.

        Public for the fitting script (``bench/fit_relevance.py``), which must see exactly the
        features a search computes.
        """
        pool_size = max(self._min_pool, request.limit * self._pool_factor)
        candidates, vector = self._candidates(scope, flt, request, pool_size)
        if not candidates:
            return candidates, {}
        model = self._models[request.mode]
        _score_pool(candidates, model)
        memories: dict[str, Memory] = {}
        if any(model.weight(name) for name in QUERY_SIGNALS):
            memories = self._add_query_signals(scope.tenant_id, request, vector, candidates, model)
        return candidates, memories

    def _add_query_signals(
        self,
        tenant_id: str,
        request: SearchRequest,
        vector: Vector,
        candidates: dict[str, _Candidate],
        model: RelevanceModel,
    ) -> dict[str, Memory]:
        """Add the signals that need the memories to the candidates' logits; returns the memories loaded.

        Named speaker, date, the query's words in the memory's text and key, and its length all need
        the memories (or their chunks), so only the head of the ranking so far (``head_factor`` × limit
        memories) is loaded: a signal can lift a good candidate into the results, but one ranked far
        below them would need more than the whole signal. A head of 5× the limit measured the same
        recall as the whole pool, 2× about a point less (``docs/decisions/retrieval-signals.md``).
        Candidates outside the head keep 0 for all of them, which only understates their score; they
        are not returned.
        """
        head = self._head(candidates, request.limit)
        memories = self._store.get_memories(tenant_id, [candidates[c].memory_id for c in head])
        named = names_in(request.query, set(_speakers(memories).values()))
        drop = named and model.weight("speaker")
        if drop and self._drop_named(tenant_id, request.query, vector, named, candidates):
            _score_pool(candidates, model)  # cosine and dense rank again, from the topic cosines
            head = self._head(candidates, request.limit)
            missing = [candidates[c].memory_id for c in head if candidates[c].memory_id not in memories]
            if missing:
                memories.update(self._store.get_memories(tenant_id, missing))
        speakers = _speakers(memories)
        signals = {
            "speaker": _named_speakers(named, speakers, candidates),
            "date": _in_date_range(request.query, candidates, memories),
        }
        if any(model.weight(name) for name in TEXT_SIGNALS):
            signals.update(self._text_signals(tenant_id, request.query, named, head, candidates, memories))
        for name, values in signals.items():
            weight = model.weight(name)
            for chunk_id, value in values.items():
                candidates[chunk_id].features[name] = value
                candidates[chunk_id].logit += weight * value
        return memories

    def _head(self, candidates: dict[str, _Candidate], limit: int) -> list[str]:
        """The best ``head_factor`` × ``limit`` memories by the logit so far, at least ``min_pool``."""
        head = _best_chunk_per_memory(_order(candidates, SearchMode.HYBRID), candidates)
        return head[: max(self._head_factor * limit, self._min_pool)]

    def _drop_named(
        self,
        tenant_id: str,
        query: str,
        vector: Vector,
        named: set[str],
        candidates: dict[str, _Candidate],
    ) -> bool:
        """Give every candidate the cosine of its vector with the query's topic; False if left alone.

        The names are the speaker signal's business, so this runs only when the model hears that
        signal. In the embedding of a short question the name weighs as much as its topic ("What
        activities does Melanie partake in?"), and every turn of a conversation carries its speakers'
        names in its dense key, so the raw cosine prefers turns that mention the person over turns
        about the activity. The topic is the query vector with its component along each named
        speaker's name vector taken out (``_without_direction``): embedding the query again without
        the names measured the same held-out recall and costs a second query embedding; a name's vector
        is embedded once and kept (``MAX_NAME_VECTORS``). Left alone when nothing but the names and
        stop words would remain ("Who is Alice?"): that query has no topic.
        """
        if not content_words(query, named):
            return False
        topic = vector
        for name in sorted(named):
            topic = _without_direction(topic, self._name_vector(tenant_id, name))
        norm = float(np.linalg.norm(topic))
        if norm < 1e-6:
            return False
        topic = topic / norm
        unread = [c for c, cand in candidates.items() if cand.vector is None]
        stored = self._store.chunk_vectors(self._embedder.model_id, unread, tenant_id) if unread else {}
        stored.update({c: cand.vector for c, cand in candidates.items() if cand.vector is not None})
        found = [c for c in candidates if c in stored]  # a chunk may have lost its vector meanwhile
        if found:
            cosines = np.stack([stored[c] for c in found]) @ topic
            for chunk_id, cosine in zip(found, cosines.tolist(), strict=True):
                candidates[chunk_id].topic_cosine = cosine
        for cand in candidates.values():
            if cand.topic_cosine is None:
                cand.topic_cosine = 0.0
        return True

    def _name_vector(self, tenant_id: str, name: str) -> Vector:
        """The embedding of a speaker's name, embedded once per tenant and name (bounded cache)."""
        key = (tenant_id, name)
        with self._names_lock:
            found = self._name_vectors.get(key)
        if found is not None:
            return found
        vector = self._embed_query(name)
        with self._names_lock:
            if len(self._name_vectors) >= MAX_NAME_VECTORS:
                self._name_vectors.clear()
            self._name_vectors[key] = vector
        return vector

    def _text_signals(
        self,
        tenant_id: str,
        query: str,
        named: set[str],
        head: Sequence[str],
        candidates: dict[str, _Candidate],
        memories: dict[str, Memory],
    ) -> dict[str, dict[str, float]]:
        """The text signals (``text_words``, ``key_words``, ``length``, ``when``) of the head's memories."""
        words = content_words(query, named)
        keys = self._store.sparse_keys(tenant_id, list(head)) if words else {}
        in_text, in_key = share_found(words, stem=True), share_found(words, stem=False)
        when = asks_when(query)
        out: dict[str, dict[str, float]] = {"text_words": {}, "key_words": {}, "length": {}, "when": {}}
        for chunk_id in head:
            memory = memories.get(candidates[chunk_id].memory_id)
            if memory is None:
                continue
            size = word_count(memory.text)
            out["length"][chunk_id] = size / (size + LENGTH_HALF)
            if when and tells_when(memory.text):
                out["when"][chunk_id] = 1.0
            if words:
                out["text_words"][chunk_id] = in_text(memory.text)
                key = keys.get(chunk_id)
                out["key_words"][chunk_id] = in_key(key) if key is not None else 0.0
        return out

    def _candidates(
        self, scope: Scope, flt: Filter | None, request: SearchRequest, pool_size: int
    ) -> tuple[dict[str, _Candidate], Vector]:
        """Both retrievers' hits, each with its cosine, and the query vector (embedded during keyword search).

        Embedding the query and the keyword search are the two slow steps of a search (several
        milliseconds each) and neither needs the other, so the query is embedded on a helper thread
        while this thread runs the keyword search: onnxruntime and sqlite3 both release the GIL, and the
        search costs the longer of the two instead of their sum. The helper threads only embed, they
        never touch the store (whose read connections are per thread).
        """
        vector_future = self._pool().submit(self._embed_query, request.query)
        keyword: list[ChunkHit] = []
        stored: dict[str, Vector] = {}
        if request.mode in (SearchMode.HYBRID, SearchMode.KEYWORD):
            keyword = self._store.keyword_search(scope, flt, request.query, pool_size)
            # Still waiting for the query vector: read the keyword hits' stored vectors now (their
            # cosines need them), so that read adds nothing to the wait. Some will turn out to be
            # dense hits too; reading those is cheaper than reading the rest after the wait.
            stored = self._store.chunk_vectors(
                self._embedder.model_id, [h.chunk_id for h in keyword], scope.tenant_id
            )
        vector = vector_future.result()
        dense: list[ChunkHit] = []
        if request.mode in (SearchMode.HYBRID, SearchMode.DENSE):
            dense = self._store.vector_search(scope, flt, self._embedder.model_id, vector, pool_size)
        found: dict[str, _Candidate] = {}
        for hit in dense:  # the dense index may hand back the hits' vectors: no second read for them
            found[hit.chunk_id] = _Candidate(hit.chunk_id, hit.memory_id, hit.score, 0.0, vector=hit.vector)
        for hit in keyword:
            other = stored.get(hit.chunk_id)  # None: the chunk lost its vector meanwhile
            cand = found.get(hit.chunk_id)
            if cand is None:
                cosine = float(np.dot(other, vector)) if other is not None else 0.0
                cand = found[hit.chunk_id] = _Candidate(hit.chunk_id, hit.memory_id, cosine, 0.0)
            cand.keyword = hit.score
            if other is not None:
                cand.vector = other
        return _per_memory(found), vector

    def _embed_query(self, query: str) -> Vector:
        vector: Vector = self._embedder.embed([query])[0]
        return vector

    def _pool(self) -> ThreadPoolExecutor:
        """Threads that embed queries, started on first use (a retriever that never searches has none)."""
        with self._pool_lock:
            if self._embedding_pool is None:
                self._embedding_pool = ThreadPoolExecutor(
                    EMBED_THREADS, thread_name_prefix="memhub-query-embed"
                )
            return self._embedding_pool

    def _results(
        self,
        order: Sequence[str],
        candidates: dict[str, _Candidate],
        ranked: dict[str, float],
        memories: dict[str, Memory],
        tenant_id: str,
    ) -> list[SearchResult]:
        documents = [c for c in order if _is_document(memories.get(candidates[c].memory_id))]
        chunks = self._store.get_chunks(tenant_id, documents) if documents else {}
        results = []
        for chunk_id in order:
            cand = candidates[chunk_id]
            memory = memories.get(cand.memory_id)
            if memory is None:  # deleted between search and fetch
                continue
            chunk: Chunk | None = chunks.get(chunk_id)
            results.append(
                SearchResult(
                    memory=memory,
                    score=probability(cand.logit),
                    similarity=cand.cosine,
                    rank_score=ranked[chunk_id],
                    sources=[s.public_id for s in memory.sources],
                    chunk=chunk,
                )
            )
        return results

    def _apply_recency(self, results: list[SearchResult], weight: float) -> list[SearchResult]:
        now = self._clock.now()
        for r in results:
            r.rank_score += weight * RECENCY_WEIGHT * recency_bonus(r.memory.occurred_at, now)
        return sorted(results, key=lambda r: -r.rank_score)


def _per_memory(found: dict[str, _Candidate]) -> dict[str, _Candidate]:
    """One candidate per memory: its best-cosine chunk, carrying the best keyword score of its chunks.

    A memory can have several chunks (a document's pieces): its dense score is its closest chunk's and
    its keyword score its best-matching chunk's, so the relevance model sees each memory once, with
    ranks among memories rather than among pieces.
    """
    best: dict[str, _Candidate] = {}
    keyword: dict[str, float] = {}
    for cand in found.values():
        held = best.get(cand.memory_id)
        if held is None or (cand.cosine, held.chunk_id) > (held.cosine, cand.chunk_id):
            best[cand.memory_id] = cand
        keyword[cand.memory_id] = max(keyword.get(cand.memory_id, 0.0), cand.keyword)
    for memory_id, cand in best.items():
        cand.keyword = keyword[memory_id]
    return {cand.chunk_id: cand for cand in best.values()}


def _without_direction(vector: Vector, direction: Vector) -> Vector:
    """``vector`` less its component along the unit vector ``direction`` (not normalised)."""
    out: Vector = vector - float(np.dot(vector, direction)) * direction
    return out


def _score_pool(candidates: dict[str, _Candidate], model: RelevanceModel) -> None:
    """Each candidate's retrieval features and its logit from them, set in place."""
    _pool_features(candidates)
    for cand in candidates.values():
        cand.logit = model.logit(cand.features)


def _speakers(memories: Mapping[str, Memory]) -> dict[str, str]:
    """Memory id -> the speaker named in its metadata, for the memories that have one."""
    return {mid: str(m.metadata[SPEAKER_KEY]) for mid, m in memories.items() if m.metadata.get(SPEAKER_KEY)}


def _pool_features(candidates: dict[str, _Candidate]) -> None:
    """Each candidate's retrieval features (see ``relevance.py``), set in place.

    ``cosine`` and ``dense_rank`` use the topic cosine once the query's speaker names are known
    (``Retriever._drop_named``); the dense retriever's own order and ``similarity`` keep the raw one.
    """
    dense_rank = sorted(candidates, key=lambda c: (-candidates[c].ranking_cosine, c))
    keyword_rank = sorted(
        (c for c in candidates if candidates[c].keyword >= KEYWORD_NOISE),
        key=lambda c: (-candidates[c].keyword, c),
    )
    for cand in candidates.values():
        cand.features = {
            "cosine": cand.ranking_cosine,
            "keyword_log": math.log1p(max(cand.keyword, 0.0)),
            "dense_rank": 0.0,
            "keyword_rank": 0.0,
        }
    for chunk_id, position in _shared_ranks(dense_rank, lambda c: candidates[c].ranking_cosine):
        candidates[chunk_id].features["dense_rank"] = 1.0 / (1.0 + position)
    for chunk_id, position in _shared_ranks(keyword_rank, lambda c: candidates[c].keyword):
        candidates[chunk_id].features["keyword_rank"] = 1.0 / (1.0 + position)


def _shared_ranks(ordered: list[str], value: Callable[[str], float]) -> list[tuple[str, int]]:
    """Each candidate's position in ``ordered``, equal values sharing the first of their positions.

    Two memories with the same text and key score the same; without sharing, the one whose id sorts
    first would earn a better rank, and so a higher score, by its id alone.
    """
    ranks: list[tuple[str, int]] = []
    for position, chunk_id in enumerate(ordered):
        tied = ranks and value(ranks[-1][0]) == value(chunk_id)
        ranks.append((chunk_id, ranks[-1][1] if tied else position))
    return ranks


def _order(candidates: dict[str, _Candidate], mode: SearchMode) -> dict[str, float]:
    """The number each mode orders by: the relevance logit (hybrid), else the one retriever's score.

    Dense-only and keyword-only keep their retriever's own order: they are the baselines hybrid is
    measured against, and a caller asking for one retriever asks for its ranking.
    """
    if mode is SearchMode.DENSE:
        return {c: cand.cosine for c, cand in candidates.items()}
    if mode is SearchMode.KEYWORD:
        return {c: cand.keyword for c, cand in candidates.items()}
    return {c: cand.logit for c, cand in candidates.items()}


def _rerank(reranker: Reranker, query: str, results: list[SearchResult]) -> list[SearchResult]:
    """Results by the reranker's scores (their ``rank_score`` now); unchanged if it has no opinion."""
    if not results:
        return results
    passages = [r.chunk.text if r.chunk else r.memory.text for r in results]
    scores = reranker.rerank(query, passages)
    if scores is None:
        return results
    for r, s in zip(results, scores, strict=True):
        r.rank_score = float(s)
    return sorted(results, key=lambda r: -r.rank_score)  # stable: equal scores keep the fused order


def _best_chunk_per_memory(ranked: dict[str, float], candidates: dict[str, _Candidate]) -> list[str]:
    """Chunk ids in fused order, keeping only the best chunk of each memory."""
    seen: set[str] = set()
    order = []
    for chunk_id in sorted(ranked, key=lambda c: (-ranked[c], c)):
        memory_id = candidates[chunk_id].memory_id
        if memory_id not in seen:
            seen.add(memory_id)
            order.append(chunk_id)
    return order


def _named_speakers(
    named: set[str], speakers: dict[str, str], candidates: dict[str, _Candidate]
) -> dict[str, float]:
    """1.0 for each candidate whose memory's speaker (``speakers``: memory id -> name) the query names."""
    if not named:
        return {}
    return {c: 1.0 for c, cand in candidates.items() if speakers.get(cand.memory_id) in named}


def _in_date_range(
    query: str, candidates: dict[str, _Candidate], memories: dict[str, Memory]
) -> dict[str, float]:
    """1.0 for each candidate whose memory happened in the span of days the query names, ± a day.

    The day of slack is for how people tell things: what happened on the 12th is often told on the 13th
    ("yesterday"), and a question about the 12th should find that telling.
    """
    span = date_range(query)
    if span is None:
        return {}
    start, end = span[0] - DATE_SLACK, span[1] + DATE_SLACK
    inside = {mid for mid, m in memories.items() if start <= m.occurred_at.date() < end}
    return {c: 1.0 for c, cand in candidates.items() if cand.memory_id in inside}


def _is_document(memory: Memory | None) -> bool:
    """Only document results carry their matching chunk (an episode or fact is its own text)."""
    return memory is not None and memory.kind is MemoryKind.DOCUMENT
