"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -7.3043,
        "cosine": 2.7739,
        "keyword_log": 0.2877,
        "dense_rank": 2.1787,
        "keyword_rank": 3.5436,
        "speaker": 0.8,
        "date": 0.4926,
    },
    "dense": {
        "intercept": -6.7113,
        "cosine": 4.1335,
        "keyword_log": 0.0,
        "dense_rank": 3.3223,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -9.084,
        "cosine": 2.8454,
        "keyword_log": 1.1489,
        "dense_rank": 2.0518,
        "keyword_rank": 3.2748,
    },
}
