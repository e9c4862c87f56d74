"""The relevance model's fits: ranking weights that order each question's candidates, calibrated after."""

from __future__ import annotations

import numpy as np

from memhub.benchmarks.calibration import fit_ranking, reliability


def _groups(seed: int, questions: int = 60, pool: int = 40) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pools where feature 0 tells the relevant candidates apart, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(questions):
        y = np.zeros(pool)
        y[rng.choice(pool, size=2, replace=False)] = 1.0
        x = np.column_stack([y * 1.5 + rng.normal(0, 0.7, pool), rng.normal(0, 1, pool)])
        groups.append((x, y))
    return groups


def test_fit_ranking_weights_the_informative_signal_and_stays_non_negative() -> None:
    fit = fit_ranking(_groups(1), ["signal", "noise"])
    assert fit.weights["signal"] > 5 * fit.weights["noise"] >= 0.0


def test_fit_ranking_holds_a_fixed_weight_in_ranking_units() -> None:
    free = fit_ranking(_groups(1), ["signal", "noise"])
    held = fit_ranking(_groups(1), ["signal", "noise"], fixed={"noise": 0.0})
    assert held.weights["noise"] == 0.0
    assert held.weights["signal"] > 0.0 and free.weights["signal"] > 0.0


def test_fit_ranking_scores_are_calibrated_on_the_top_results_of_unseen_questions() -> None:
    fit = fit_ranking(_groups(1), ["signal", "noise"], calibrate_top=5)
    scores, labels = [], []
    for x, y in _groups(2):
        logit = fit.intercept + x @ np.array([fit.weights["signal"], fit.weights["noise"]])
        top = np.argsort(-logit)[:5]
        scores.extend(1.0 / (1.0 + np.exp(-logit[top])))
        labels.extend(y[top])
    assert reliability(scores, labels).ece < 0.1
