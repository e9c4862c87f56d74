"""Recency and the relevance score's arithmetic."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from memhub.core.models import SearchMode
from memhub.core.ranking import recency_bonus
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
        RelevanceModel(intercept=0.0, weights={"length": 1.0})
