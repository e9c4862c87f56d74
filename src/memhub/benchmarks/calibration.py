"""Fitting and checking the relevance score: a non-negative logistic fit, reliability bins, ECE.

The fit is plain Newton (IRLS) on the log-loss with a small L2 penalty, in numpy: a few thousand rows
and eight features need nothing more. Weights are kept non-negative (the score must rise with every
signal): a feature whose weight comes out negative is dropped and the rest refitted, which keeps the
model monotone and says plainly which signals carry no information of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
L2 = 1e-3
ITERATIONS = 100


@dataclass(frozen=True)
class Fit:
    intercept: float
    weights: dict[str, float]


def fit_logistic(x: Array, y: Array, names: Sequence[str], fixed: Mapping[str, float] | None = None) -> Fit:
    """Non-negative logistic regression of ``y`` (0/1) on the columns of ``x`` (named by ``names``).

    ``fixed`` weights are not fitted: their columns enter as an offset and the others adapt to them.
    """
    fixed = dict(fixed or {})
    offset = sum((x[:, names.index(n)] * v for n, v in fixed.items()), np.zeros(len(y)))
    active = [i for i, n in enumerate(names) if n not in fixed]
    while True:
        w = _newton(x[:, active], y, offset)
        negative = [active[i] for i, v in enumerate(w[1:]) if v < 0]
        if not negative:
            break
        worst = min(negative, key=lambda i: w[1 + active.index(i)])
        active.remove(worst)
    weights = {name: round(fixed.get(name, 0.0), 4) for name in names}
    for i, v in zip(active, w[1:], strict=True):
        weights[names[i]] = round(float(v), 4)
    return Fit(intercept=round(float(w[0]), 4), weights=weights)


def _newton(x: Array, y: Array, offset: Array) -> Array:
    x1 = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x1.shape[1])
    penalty = L2 * np.diag(np.r_[0.0, np.ones(x1.shape[1] - 1)])
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-(x1 @ w + offset)))
        gradient = x1.T @ (p - y) + penalty @ w
        hessian = (x1 * (p * (1 - p))[:, None]).T @ x1 + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return w


@dataclass(frozen=True)
class Reliability:
    """Predicted vs observed relevance per score bin, and the summary figures."""

    bins: list[dict[str, float]]  # lo, hi, n, mean_score, observed
    ece: float
    n: int
    base_rate: float
    precision_at_half: float
    recall_at_half: float


def reliability(scores: Sequence[float], labels: Sequence[float], bins: int = 10) -> Reliability:
    """Equal-width bins over [0, 1]; ECE = Σ (n_bin / n) × |mean score − observed rate|.

    ``recall_at_half`` is the share of the relevant results (among those scored) that ``threshold=0.5``
    keeps; ``precision_at_half`` the share of the kept ones that are relevant.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    rows: list[dict[str, float]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (s >= lo) & ((s < hi) if b < bins - 1 else (s <= hi))
        n = int(inside.sum())
        if not n:
            continue
        mean, observed = float(s[inside].mean()), float(y[inside].mean())
        rows.append({"lo": lo, "hi": hi, "n": n, "mean_score": mean, "observed": observed})
        ece += n / len(s) * abs(mean - observed)
    kept = s >= 0.5
    return Reliability(
        bins=rows,
        ece=ece,
        n=len(s),
        base_rate=float(y.mean()) if len(y) else float("nan"),
        precision_at_half=float(y[kept].mean()) if kept.any() else float("nan"),
        recall_at_half=float(y[kept].sum() / y.sum()) if y.sum() else float("nan"),
    )


def fit_ranking(
    groups: Sequence[tuple[Array, Array]],
    names: Sequence[str],
    fixed: Mapping[str, float] | None = None,
    calibrate_top: int = 10,
) -> Fit:
    """Non-negative weights fitted to *rank* each group's relevant rows first, then scaled to probabilities.

    ``groups`` holds one (features, 0/1 labels) pair per question: every candidate of its pool. A
    pointwise fit spends itself on the hundreds of easy negatives of every pool; this one maximises,
    per question, the softmax probability of its relevant candidates (a listwise loss), so each
    question counts once and only the order among its own candidates matters. The ranking weights are
    then turned into a probability by a one-feature logistic fit (Platt scaling) over each question's
    ``calibrate_top`` best-ranked rows, the ones a search returns: ``P = sigmoid(a × s + b)`` with
    ``a ≥ 0``, folded into the weights, so the order is unchanged and every weight stays non-negative.
    ``fixed`` weights are held in ranking units and scaled with the rest.
    """
    fixed = dict(fixed or {})
    kept = [(x, y) for x, y in groups if y.any()]
    w = _listwise(kept, [fixed.get(n) for n in names])
    scores, labels = [], []
    for x, y in groups:
        s = x @ w
        top = np.argsort(-s, kind="stable")[:calibrate_top]
        scores.append(s[top])
        labels.append(y[top])
    platt = fit_logistic(np.concatenate(scores)[:, None], np.concatenate(labels), ["s"])
    a = platt.weights["s"]
    return Fit(
        intercept=platt.intercept,
        weights={n: round(float(a * v), 4) for n, v in zip(names, w, strict=True)},
    )


RANKING_STEPS = 400
RANKING_RATE = 0.05


def _listwise(groups: Sequence[tuple[Array, Array]], fixed: Sequence[float | None]) -> Array:
    """Projected Adam on −Σ_q log Σ_{relevant i} softmax(X_q w)_i + L2, weights clipped at 0."""
    free = np.array([f is None for f in fixed])
    w = np.array([0.5 if f is None else f for f in fixed], dtype=float)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, RANKING_STEPS + 1):
        gradient = L2 * w
        for x, y in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            relevant = p * y
            gradient += x.T @ (p - relevant / relevant.sum()) / len(groups)
        gradient[~free] = 0.0
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient * gradient
        w -= RANKING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        w = np.maximum(w, 0.0)
    return w
