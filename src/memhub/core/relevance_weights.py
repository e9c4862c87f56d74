"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -6.7377,
        "cosine": 3.2007,
        "keyword_log": 0.3799,
        "dense_rank": 0.4847,
        "keyword_rank": 0.7142,
        "speaker": 0.3734,
        "date": 1.2294,
        "text_words": 0.4353,
        "key_words": 1.3776,
        "length": 1.4296,
    },
    "dense": {
        "intercept": -5.978,
        "cosine": 3.4708,
        "keyword_log": 0.0,
        "dense_rank": 3.4038,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -9.4434,
        "cosine": 3.501,
        "keyword_log": 1.3472,
        "dense_rank": 1.7529,
        "keyword_rank": 2.8604,
    },
}
