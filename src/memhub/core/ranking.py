"""Fusing candidates from several retrievers into one ranking.

Why z-score fusion by default: each retriever's scores are standardised per query (mean 0, std 1 over
the candidate pool) and combined with weights. A measured probe on LoCoMo (shared/RETRIEVAL-NOTES.md)
found this 5–14 points of recall better than reciprocal-rank fusion on the same inputs, because it keeps
*how much* better a candidate is, not only its rank. RRF stays available as the rank-only alternative.

The fused number orders results; it is not the score reported to callers. Reported scores are calibrated
cosine similarities (see :func:`calibrated_similarity`) so that thresholds mean the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


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
