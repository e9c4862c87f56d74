"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -7.6151,
        "cosine": 3.2792,
        "keyword_log": 0.416,
        "dense_rank": 0.6055,
        "keyword_rank": 0.6783,
        "speaker": 0.3833,
        "date": 1.2554,
        "text_words": 0.3683,
        "key_words": 1.641,
        "length": 1.6076,
        "when": 1.0032,
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
