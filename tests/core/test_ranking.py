"""Fusion arithmetic and score calibration."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from memhub.core.models import SearchMode
from memhub.core.ranking import Signal, recency_bonus, rrf_fuse, zscore_fuse
from memhub.core.relevance import DEFAULT_MODELS, FEATURES, RelevanceModel, probability


def test_zscore_fusion_prefers_candidates_strong_in_both_signals() -> None:
    pool = ["a", "b", "c"]
    dense = Signal({"a": 0.9, "b": 0.5, "c": 0.1}, 0.5)
    keyword = Signal({"a": 3.0, "c": 9.0}, 0.5, missing=0.0)
    fused = zscore_fuse(pool, [dense, keyword])
    assert set(fused) == set(pool)
    assert fused["a"] > fused["b"]


def test_zscore_fusion_ignores_zero_weight_and_constant_signals() -> None:
    fused = zscore_fuse(["a", "b"], [Signal({"a": 1.0, "b": 1.0}, 1.0), Signal({"a": 5.0}, 0.0)])
    assert fused == {"a": 0.0, "b": 0.0}


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf_fuse([["a", "b"], ["b"]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)


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


def test_zscore_fusion_does_not_amplify_noise_below_the_min_spread() -> None:
    pool = ["a", "b"]
    dense = Signal({"a": 0.40, "b": 0.30}, 0.6, min_spread=0.01)
    near_zero_keyword = Signal({"a": 1e-6, "b": 2e-6}, 0.4, missing=0.0, min_spread=0.5)
    fused = zscore_fuse(pool, [dense, near_zero_keyword])
    assert fused["a"] > fused["b"]  # the real dense difference wins over keyword noise
