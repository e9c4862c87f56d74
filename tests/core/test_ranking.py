"""Recency and the relevance score's arithmetic."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from memhub.core.models import SearchMode
from memhub.core.ranking import content_words, recency_bonus, share_found, word_stem
from memhub.core.relevance import DEFAULT_MODELS, FEATURES, RelevanceModel, probability


def test_recency_bonus_halves_every_half_life() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert recency_bonus(now, now) == 1.0
    assert recency_bonus(now - timedelta(days=30), now, half_life_days=30) == pytest.approx(0.5)
    assert recency_bonus(now + timedelta(days=1), now) == 1.0


@pytest.mark.parametrize("logit", [-1e4, -3.0, 0.0, 2.5, 1e4])
def test_probability_is_the_logistic_function_and_never_overflows(logit: float) -> None:
    p = probability(logit)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(1.0 / (1.0 + math.exp(-max(min(logit, 700), -700))))


@pytest.mark.parametrize("mode", list(SearchMode))
def test_every_fitted_score_rises_with_each_signal(mode: SearchMode) -> None:
    model = DEFAULT_MODELS[mode]
    base = dict.fromkeys(FEATURES, 0.2)
    for name in FEATURES:
        assert model.logit({**base, name: 0.9}) >= model.logit(base), name
    assert any(model.weight(name) > 0 for name in FEATURES)


def test_a_relevance_model_refuses_negative_or_unknown_weights() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        RelevanceModel(intercept=0.0, weights={"cosine": -1.0})
    with pytest.raises(ValueError, match="unknown"):
        RelevanceModel(intercept=0.0, weights={"loudness": 1.0})


def test_content_words_drop_stop_words_repeats_and_the_names_the_query_mentions() -> None:
    query = "What activities has Mary Ann done with her family, and what activities with Bob?"
    assert content_words(query, {"Mary Ann"}) == ["activities", "done", "family", "bob"]
    assert content_words("What did she do?") == []


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("painting", "paint"),
        ("activities", "activit"),
        ("paint", "paint"),
        ("camping", "campi"),
        ("art", "art"),
    ],
)
def test_word_stem_cuts_three_letters_from_long_words_only(word: str, stem: str) -> None:
    assert word_stem(word) == stem


def test_share_found_matches_stems_as_word_prefixes_and_short_words_whole() -> None:
    text = "I love Painting, and the activity of the art class!"
    words = ["painted", "activities", "art", "pottery"]
    assert share_found(words, stem=True)(text) == 0.75
    assert share_found(words, stem=False)(text) == 0.25
    assert share_found(["car"], stem=True)("my career") == 0.0  # three letters: whole words only
    assert share_found(["painting", "camping"], stem=True)("we paint, and camp") == 0.5  # campi-ng
    assert share_found(["camp", "camping"], stem=True)("we went camping") == 1.0  # both start "camping"
    assert share_found([], stem=True)(text) == 0.0
