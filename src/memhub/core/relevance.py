"""The reported ``score``: a calibrated probability that a result is relevant to the query.

Why a probability: a threshold should mean the same thing for every query and at every door. A cosine
does not: with the bundled model a right answer to a natural question typically has a cosine of 0.13 to
0.49, so a product's default threshold of 0.65 dropped every right answer. ``score`` is instead
``P(relevant | signals)``, so ``threshold=0.5`` keeps the results that are more likely relevant than
not, whatever the query looks like.

How: a logistic model over signals retrieval already has for every candidate (no extra model, no LLM):

* ``cosine`` / ``keyword_log``: the raw cosine and ``log(1 + BM25)`` (how good in absolute terms); when
  a hybrid query names a speaker, ``cosine`` and ``dense_rank`` use the query's topic instead: its
  vector without the names' direction (``retrieval.Retriever._drop_named``);
* ``dense_rank`` / ``keyword_rank``: ``1 / (1 + rank)`` in each retriever's own list (0 when the
  keyword search did not find the memory);
* ``speaker`` / ``date``: 1 when the query names the memory's speaker / a day, month or year it
  happened in (see ``ranking.names_in`` and ``ranking.date_range``), else 0;
* ``text_words``: the share of the query's content words found in the memory's own text (a stem-prefix
  match, ``ranking.share_found``). The keyword key is a window of five turns, so BM25 scores a turn
  and its neighbours nearly alike; this tells which of them says it;
* ``key_words``: the share of the query's content words in the memory's keyword key (whole words):
  how much of the question the match covers, where BM25 can be carried by one rare word;
* ``length``: ``n / (n + 20)`` for a text of ``n`` words. Short texts (one-line replies, extracted
  facts) come close to a question in the embedding space without saying much;
* ``when``: 1 when the query asks about time ("When did ...", "What year ...", "How long ...") and the
  memory's text says when or how long (a year, a month, a weekday, "last week", "for 3 years"): the
  memory that answers "when" usually says when (``ranking.asks_when`` / ``ranking.tells_when``).

Every weight is fitted non-negative, so the score only ever rises with a signal (monotone), and the
logit is a weighted sum anyone can read off a result's features. The same logit orders hybrid results
(learned fusion: ranking and calibration in one). The hybrid weights are fitted for ranking (a softmax
over each question's candidates) and then scaled to probabilities by one positive factor and an
intercept, which changes no order and keeps every weight non-negative. Scores standardised over the
query's candidate pool (z-scores, the fusion before this model) ranked as well but were left out: a
pool of five memories cannot produce a large z-score, so a verbatim match in a small store scored 0.08.
The fitted constants live in ``relevance_weights.py``; how they were fitted and what they measured is
in ``docs/decisions/relevance-score.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .models import SearchMode
from .relevance_weights import FITTED

FEATURES = (
    "cosine",
    "keyword_log",
    "dense_rank",
    "keyword_rank",
    "speaker",
    "date",
    "text_words",
    "key_words",
    "length",
    "when",
)
"""The signals, in the order the fitted weights are stored."""

QUERY_SIGNALS = ("speaker", "date", "text_words", "key_words", "length", "when")
"""Signals that need the memories themselves (loaded for the head of the ranking only)."""

TEXT_SIGNALS = ("text_words", "key_words", "length", "when")
"""The query signals read off the memory's text and keyword key."""


@dataclass(frozen=True)
class RelevanceModel:
    """``P(relevant) = sigmoid(intercept + Σ weight × feature)``; a missing feature counts as 0."""

    intercept: float
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown relevance features: {sorted(unknown)}")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("relevance weights must be non-negative (the score must rise with each signal)")

    def logit(self, features: Mapping[str, float]) -> float:
        return self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())

    def weight(self, name: str) -> float:
        return self.weights.get(name, 0.0)


def probability(logit: float) -> float:
    """The logistic function, safe for any float."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    e = math.exp(logit)
    return e / (1.0 + e)


def _model(mode: SearchMode) -> RelevanceModel:
    fitted = FITTED[mode.value]
    return RelevanceModel(
        intercept=fitted["intercept"],
        weights={name: w for name, w in fitted.items() if name != "intercept" and w},
    )


DEFAULT_MODELS: dict[SearchMode, RelevanceModel] = {mode: _model(mode) for mode in SearchMode}
"""The fitted model of each search mode (each mode has the signals it computes)."""
