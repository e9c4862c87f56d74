"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -6.4768,
        "dense_z": 0.4321,
        "keyword_z": 0.3223,
        "cosine": 0.4745,
        "keyword_log": 0.0,
        "dense_rank": 1.0831,
        "keyword_rank": 2.5786,
        "speaker": 1.5384,
        "date": 0.6857,
    },
    "dense": {
        "intercept": -5.3968,
        "dense_z": 0.9459,
        "keyword_z": 0.0,
        "cosine": 0.678,
        "keyword_log": 0.0,
        "dense_rank": 0.118,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -7.0357,
        "dense_z": 0.2554,
        "keyword_z": 0.6576,
        "cosine": 2.9072,
        "keyword_log": 0.1158,
        "dense_rank": 0.9251,
        "keyword_rank": 1.3232,
    },
}
