"""Fitted weights of the relevance model (``relevance.py``). Generated: do not edit by hand.

Regenerate with ``python bench/fit_relevance.py`` (LoCoMo conversations 0-4 only); the command, the data
and what the fit measured are in ``docs/decisions/relevance-score.md``.
"""

FITTED: dict[str, dict[str, float]] = {
    "hybrid": {
        "intercept": -6.7525,
        "cosine": 3.2068,
        "keyword_log": 0.3715,
        "dense_rank": 0.4735,
        "keyword_rank": 0.6703,
        "speaker": 0.3731,
        "date": 1.2249,
        "text_words": 0.3676,
        "key_words": 1.4345,
        "length": 1.3263,
        "when": 0.9975,
    },
    "dense": {
        "intercept": -5.7119,
        "cosine": 4.5547,
        "keyword_log": 0.0,
        "dense_rank": 3.0498,
        "keyword_rank": 0.0,
    },
    "keyword": {
        "intercept": -8.5475,
        "cosine": 3.5187,
        "keyword_log": 1.1838,
        "dense_rank": 1.6633,
        "keyword_rank": 2.853,
    },
}
