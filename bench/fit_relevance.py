"""Fit the relevance model (``src/memhub/core/relevance_weights.py``) on LoCoMo's tuning conversations.

    memhub bench locomo --store /tmp/locomo-store --convs 0-9 --modes hybrid   # builds the index once
    python bench/fit_relevance.py --store /tmp/locomo-store --convs 0-4

For every question of the tuning conversations (categories 1-4) and every search mode, the retriever
scores its candidate pool as a search does (``Retriever.score_candidates``), with the signals that need
the memories computed for the whole pool instead of its head (a search computes them for the head its
partial logit picks, and the fit must not depend on the weights it replaces); a candidate is relevant
when its memory's provenance meets the question's evidence. Hybrid, which orders by the model, is fitted
for ranking and then calibrated (``calibration.fit_ranking``); dense-only and keyword-only keep their
retriever's order, so their score is a plain non-negative logistic fit (``calibration.fit_logistic``).
The weights are written as a small Python module. Only the
weights enter the repository, never the data. Conversations 5-9 must stay out of the fit: they are the
held-out split the calibration and the recall are reported on.
"""

from __future__ import annotations

import argparse
import pprint
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from common import LOCOMO

from memhub.benchmarks.calibration import fit_logistic, fit_ranking
from memhub.benchmarks.locomo import select
from memhub.benchmarks.locomo_data import ANSWERABLE, Conversation, Question
from memhub.cli.bench import parse_indices
from memhub.core.clock import SystemClock
from memhub.core.models import Memory, Scope, SearchMode, SearchRequest
from memhub.core.relevance import FEATURES, QUERY_SIGNALS, RelevanceModel
from memhub.core.retrieval import Retriever, _Candidate
from memhub.embedded.engine import embedded_settings
from memhub.runtime import Runtime

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "memhub" / "core" / "relevance_weights.py"
HEADER = '''"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = '''


WHOLE_POOL = 10**6  # head factor: the memory signals for every candidate
EVERY_SIGNAL = RelevanceModel(intercept=0.0, weights=dict.fromkeys(FEATURES, 1.0))
"""A model that asks for every signal (a search skips those its model gives no weight)."""
WHOLE_POOL_SIGNALS: dict[str, Any] = {
    "models": dict.fromkeys(SearchMode, EVERY_SIGNAL),
    "head_factor": WHOLE_POOL,
}
"""Retriever options for every signal of every candidate, as the fit sees them."""

Pool = tuple[int, Conversation, Question, Scope, dict[str, _Candidate], dict[str, Memory]]


def question_pools(
    runtime: Runtime,
    data: Path,
    convs: list[int] | None,
    categories: Collection[int],
    mode: SearchMode,
    limit: int,
    quick: bool = False,
    retriever: Retriever | None = None,
) -> Iterator[Pool]:
    """Per question: (conversation position, conversation, question, scope, its candidate pool scored as a
    search scores it, and every pool memory loaded), with every signal for the whole pool by default."""
    tenant = runtime.store.find_tenant("default")
    assert tenant is not None, "the store has no embedded tenant: build it with memhub bench locomo --store"
    space = runtime.service.resolve_space(tenant.id, None).id
    retriever = retriever or Retriever(runtime.store, runtime.embedder, SystemClock(), **WHOLE_POOL_SIGNALS)
    for position, conv in select(data, convs, quick, categories):
        scope = Scope(tenant_id=tenant.id, space_ids=[space], user_id=conv.sample_id)
        for question in conv.questions:
            request = SearchRequest(query=question.question, user_id=conv.sample_id, limit=limit, mode=mode)
            candidates, memories = retriever.score_candidates(scope, None, request)
            missing = [c.memory_id for c in candidates.values() if c.memory_id not in memories]
            memories.update(runtime.store.get_memories(tenant.id, missing))
            yield position, conv, question, scope, candidates, memories


def rows(runtime: Runtime, data: Path, convs: list[int], mode: SearchMode, limit: int) -> list[tuple]:
    """(feature matrix, labels) over the candidates of each tuning question."""
    groups = []
    for _, _, question, _, candidates, memories in question_pools(
        runtime, data, convs, ANSWERABLE, mode, limit
    ):
        evidence = set(question.evidence)
        xs: list[list[float]] = []
        ys: list[float] = []
        for cand in candidates.values():
            memory = memories.get(cand.memory_id)
            if memory is None:
                continue
            xs.append([cand.features.get(name, 0.0) for name in FEATURES])
            ys.append(1.0 if evidence & {s.public_id for s in memory.sources} else 0.0)
        groups.append((np.array(xs).reshape(len(ys), len(FEATURES)), np.array(ys)))
    return groups


def _pair(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    return name.strip(), float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=LOCOMO)
    parser.add_argument("--store", type=Path, required=True, help="folder of a memhub bench locomo --store")
    parser.add_argument("--convs", default="0-4", help="tuning conversations (never 5-9)")
    parser.add_argument("--limit", type=int, default=20, help="search limit (sets the pool size)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="FEATURE=WEIGHT",
        help="hold a hybrid ranking weight instead of fitting it (the decision record says why)",
    )
    args = parser.parse_args()
    convs = parse_indices(args.convs) or []
    runtime = Runtime.open(embedded_settings(args.store))
    fitted: dict[str, dict[str, float]] = {}
    try:
        for mode in SearchMode:
            groups = rows(runtime, args.data, convs, mode, args.limit)
            names = [n for n in FEATURES if mode is SearchMode.HYBRID or n not in QUERY_SIGNALS]
            columns = [FEATURES.index(n) for n in names]
            if mode is SearchMode.HYBRID:
                fixed = dict(_pair(f) for f in args.fix)
                fit = fit_ranking([(x[:, columns], y) for x, y in groups], names, fixed)
            else:
                x = np.concatenate([x for x, _ in groups])
                fit = fit_logistic(x[:, columns], np.concatenate([y for _, y in groups]), names)
            fitted[mode.value] = {"intercept": fit.intercept, **fit.weights}
            relevant = sum(int(y.sum()) for _, y in groups)
            print(f"{mode.value}: {len(groups)} questions, {relevant} relevant candidates -> {fit}")
    finally:
        runtime.close()
    args.out.write_text(HEADER + pprint.pformat(fitted, sort_dicts=False, width=100) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
