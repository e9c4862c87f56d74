"""Fusing candidates from several retrievers into one ranking.

Why z-score fusion by default: each retriever's scores are standardised per query (mean 0, std 1 over
the candidate pool) and combined with weights. A measured probe on LoCoMo (shared/RETRIEVAL-NOTES.md)
found this 5–14 points of recall better than reciprocal-rank fusion on the same inputs, because it keeps
*how much* better a candidate is, not only its rank. RRF stays available as the rank-only alternative.

The fused number orders results; it is not the score reported to callers. Reported scores are calibrated
cosine similarities (see :func:`calibrated_similarity`) so that thresholds mean the same everywhere.

Query-side helpers live here too: the keyword query drops function words (:data:`STOPWORDS`), and
:func:`names_in` tells which candidate names a query mentions. Both are language-light on purpose: the
stop list is English, and removing it from a query in another language removes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

_WORD = re.compile(r"\w+", re.UNICODE)

_STOPWORDS_TEXT = """
    a about after again against all also am an and any are as at be because been before being between
    both but by can could did do does doing done down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom whose why will
    with would you your yours yourself yourselves s t d ll m re ve don didn doesn isn wasn aren weren
    won wouldn shouldn couldn
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
"""English function words. In a keyword query they match nearly every turn of a conversation and carry
no topic, yet BM25 still gives them weight (their IDF over a whole store is not near zero): dropping
them from the query, never from the index, added about a point of recall on LoCoMo."""


def terms(text: str) -> list[str]:
    """Lowercase word tokens (Unicode ``\\w+``, as the keyword index splits words)."""
    return [w.lower() for w in _WORD.findall(text)]


def keyword_query(text: str) -> str:
    """The query for keyword search: its words minus :data:`STOPWORDS` (all of them if nothing is left)."""
    words = terms(text)
    content = [w for w in words if w not in STOPWORDS]
    return " ".join(content or words)


def names_in(query: str, names: Iterable[str]) -> set[str]:
    """The ``names`` the query mentions: every word of the name appears as a word of the query.

    Word-level and case-insensitive, so "Alice's trip" names "Alice" and "Ali" does not.
    """
    words = set(terms(query))
    return {name for name in names if (parts := terms(name)) and all(p in words for p in parts)}


@dataclass(frozen=True)
class Signal:
    """One retriever's scores over (some of) the candidate pool, and its weight in the fusion."""

    scores: Mapping[str, float]
    weight: float
    missing: float | None = None  # raw score for candidates this retriever did not score (default: min)


def zscore_fuse(pool: Sequence[str], signals: Sequence[Signal]) -> dict[str, float]:
    """Weighted sum of per-signal standardised scores for every candidate in ``pool``."""
    fused = dict.fromkeys(pool, 0.0)
    for signal in signals:
        if signal.weight == 0 or not signal.scores:
            continue
        floor = signal.missing if signal.missing is not None else min(signal.scores.values())
        raw = [signal.scores.get(c, floor) for c in pool]
        mean = sum(raw) / len(raw)
        std = math.sqrt(sum((x - mean) ** 2 for x in raw) / len(raw)) or 1.0
        for cand, value in zip(pool, raw, strict=True):
            fused[cand] += signal.weight * (value - mean) / std
    return fused


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings a candidate appears in."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, cand in enumerate(ranking, start=1):
            fused[cand] = fused.get(cand, 0.0) + 1.0 / (k + rank)
    return fused


def recency_bonus(occurred_at: datetime, now: datetime, half_life_days: float = 30.0) -> float:
    """1.0 for just now, 0.5 one half-life ago, towards 0 for the distant past."""
    age_days = max(0.0, (now - occurred_at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / half_life_days))


def calibrated_similarity(cosine: float) -> float:
    """The reported score: cosine similarity clamped to [0, 1].

    Unit-normalised sentence embeddings rarely go below 0 for natural text; negative values mean
    "unrelated" and are reported as 0. Keeping the plain cosine (rather than a learned mapping) makes
    thresholds portable between backends and explainable to users.
    """
    return min(1.0, max(0.0, float(cosine)))
