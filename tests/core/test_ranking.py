"""Fusion arithmetic and score calibration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from memhub.core.ranking import Signal, calibrated_similarity, recency_bonus, zscore_fuse


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


def test_recency_bonus_halves_every_half_life() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert recency_bonus(now, now) == 1.0
    assert recency_bonus(now - timedelta(days=30), now, half_life_days=30) == pytest.approx(0.5)
    assert recency_bonus(now + timedelta(days=1), now) == 1.0


@pytest.mark.parametrize(("cosine", "score"), [(-0.3, 0.0), (0.42, 0.42), (1.0000001, 1.0)])
def test_calibrated_similarity_is_clamped_cosine(cosine: float, score: float) -> None:
    assert calibrated_similarity(cosine) == pytest.approx(score)


def test_zscore_fusion_does_not_amplify_noise_below_the_min_spread() -> None:
    pool = ["a", "b"]
    dense = Signal({"a": 0.40, "b": 0.30}, 0.6, min_spread=0.01)
    near_zero_keyword = Signal({"a": 1e-6, "b": 2e-6}, 0.4, missing=0.0, min_spread=0.5)
    fused = zscore_fuse(pool, [dense, near_zero_keyword])
    assert fused["a"] > fused["b"]  # the real dense difference wins over keyword noise
