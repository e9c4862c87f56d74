"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -6.5982,
        "cosine": 3.1591,
        "keyword_log": 0.1201,
        "dense_rank": 0.6263,
        "keyword_rank": 0.4746,
        "speaker": 0.3418,
        "date": 1.2122,
        "text_words": 0.6957,
        "key_words": 1.7432,
        "length": 1.4164,
    },
    "dense": {
        "intercept": -5.978,
        "cosine": 3.4708,
        "keyword_log": 0.0,
        "dense_rank": 3.4038,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -9.582,
        "cosine": 3.7159,
        "keyword_log": 1.3374,
        "dense_rank": 1.9018,
        "keyword_rank": 2.7629,
    },
}
