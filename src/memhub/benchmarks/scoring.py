"""Evidence-recall metrics at the turn level, scored through provenance.

The definitions: ``docs/benchmarks/locomo-scoring.md``.

A retriever returns a ranked list of memories; each memory carries the set of source turn ids it came
from (its provenance). A raw turn's provenance is its own id; an extracted fact's is the turn(s) it was
extracted from; a memory with no provenance covers nothing. Scoring through provenance is what lets
raw turns, extracted facts and summaries be compared on one scale.

* **recall@k** (the LoCoMo paper's metric): the fraction of the question's evidence turns covered by the
  union of the top-k memories' provenance, averaged over questions. Fractional, not all-or-nothing.
* **recall_all@k / recall_any@k**: 1 when all / any evidence turns are covered.
* **nDCG@k**: binary relevance at the *memory* level (a memory is relevant when its provenance meets the
  evidence), discount 1/log2(rank + 1), ideal = as many ones as there are relevant memories (at most k).
* **MRR**: the mean over evidence turns of 1 / (first rank covering it), 0 if never covered.

Questions with no evidence are skipped by the callers (README §2), not scored as 1.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Ranked = Sequence[Collection[str]]
"""Ranked memories, each given by its provenance (source turn ids)."""


def covered(ranked: Ranked, k: int) -> set[str]:
    """The union of the provenance of the top ``k`` memories."""
    out: set[str] = set()
    for sources in ranked[:k]:
        out.update(sources)
    return out


def evidence_recall(evidence: Collection[str], ranked: Ranked, k: int) -> float:
    """|E ∩ ⋃ P(m), m in top k| / |E|."""
    if not evidence:
        raise ValueError("evidence recall is undefined for a question without evidence")
    wanted = set(evidence)
    return len(wanted & covered(ranked, k)) / len(wanted)


def recall_all(evidence: Collection[str], ranked: Ranked, k: int) -> float:
    """1.0 when every evidence turn is covered by the top ``k``, else 0.0."""
    return 1.0 if set(evidence) <= covered(ranked, k) else 0.0


def recall_any(evidence: Collection[str], ranked: Ranked, k: int) -> float:
    """1.0 when at least one evidence turn is covered by the top ``k``, else 0.0."""
    return 1.0 if set(evidence) & covered(ranked, k) else 0.0


def ndcg(evidence: Collection[str], ranked: Ranked, k: int, relevant_total: int | None = None) -> float:
    """Binary nDCG@k at the memory level.

    ``relevant_total`` is the number of memories in the namespace whose provenance meets the evidence;
    for raw turns it is |E|, the default. With extracted memories (several memories per turn) the caller
    should pass the real count, otherwise the ideal is too small and the value can pass 1.
    """
    wanted = set(evidence)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, src in enumerate(ranked[:k], 1) if wanted & set(src))
    ideal_hits = min(relevant_total if relevant_total is not None else len(wanted), k)
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_hits + 1))
    return dcg / idcg if idcg else 0.0


def evidence_mrr(evidence: Collection[str], ranked: Ranked) -> float:
    """Mean over evidence turns of 1 / (first rank whose provenance covers it)."""
    first: dict[str, int] = {}
    for rank, sources in enumerate(ranked, 1):
        for s in sources:
            first.setdefault(s, rank)
    wanted = set(evidence)
    return sum(1.0 / first[e] for e in wanted if e in first) / len(wanted)


def score_question(
    evidence: Collection[str],
    ranked: Ranked,
    ks: Iterable[int],
    ndcg_k: int = 10,
    relevant_total: int | None = None,
) -> dict[str, float]:
    """Every metric of one question, keyed ``R@k``, ``Rall@k``, ``Rany@k``, ``nDCG@k``, ``MRR``."""
    scores: dict[str, float] = {}
    for k in ks:
        scores[f"R@{k}"] = evidence_recall(evidence, ranked, k)
        scores[f"Rall@{k}"] = recall_all(evidence, ranked, k)
        scores[f"Rany@{k}"] = recall_any(evidence, ranked, k)
    scores[f"nDCG@{ndcg_k}"] = ndcg(evidence, ranked, ndcg_k, relevant_total)
    scores["MRR"] = evidence_mrr(evidence, ranked)
    return scores


@dataclass
class Tally:
    """Running means of per-question metrics, for one group (a category, a split, everything)."""

    n: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, scores: Mapping[str, float]) -> None:
        self.n += 1
        for name, value in scores.items():
            self.sums[name] = self.sums.get(name, 0.0) + value

    def means(self) -> dict[str, float]:
        return {name: total / self.n for name, total in self.sums.items()} if self.n else {}


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: p95 is a latency some request actually had)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]
