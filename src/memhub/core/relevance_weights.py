"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -7.773,
        "cosine": 3.0394,
        "keyword_log": 0.2199,
        "dense_rank": 2.2773,
        "keyword_rank": 2.9812,
        "speaker": 1.3376,
        "date": 0.187,
    },
    "dense": {
        "intercept": -7.106,
        "cosine": 3.8852,
        "keyword_log": 0.0,
        "dense_rank": 4.1536,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -9.0874,
        "cosine": 2.653,
        "keyword_log": 1.2452,
        "dense_rank": 2.2291,
        "keyword_rank": 2.9679,
    },
}
