"""What GoMemory's threshold 0.65 should mean on memhub's cosine: a measured mapping to P(relevant).

GoMemory compares its ``threshold`` (default 0.65) with a similarity on which 0.65 already separates
related from unrelated memories; memhub's score is the bundled all-MiniLM-L6-v2 cosine, on which the
right memory for an everyday question often scores 0.4-0.6. Until memhub's score is itself a calibrated
probability of relevance, the door maps cosine → P(relevant | cosine) with a logistic curve fitted here.

Data nobody here wrote: LoCoMo questions of categories 1-4 (with evidence). Positives: (question, each
evidence turn); negatives, as many as positives, sampled with a fixed seed, either from the same
conversation (turns that are not the annotated evidence, often on the same topic) or from the other
conversations (another person's life: the "topic never mentioned" case) — so P = 0.5 means "as likely
relevant as not". Texts are embedded as memhub keys them (``pipeline.keys.dense_key``: date, speaker, text and
the previous turn). Fitted on conversations 0-4, checked on 5-9.

    nice -n 10 python bench/gomemory_threshold.py   # prints and writes bench/results/gomemory_threshold.json
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
from common import LOCOMO, locomo_sessions

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "results" / "gomemory_threshold.json"


def _normalise(evidence: list[str]) -> set[str]:
    ids: set[str] = set()
    for item in evidence:
        for raw in item.replace(";", " ").replace(",", " ").split():
            part = raw.replace("D:", "D")
            if ":" in part:
                session, turn = part.split(":", 1)
                ids.add(f"{session}:{turn.lstrip('0') or '0'}")
    return ids


def _turn_keys(conv: dict[str, Any]) -> dict[str, str]:
    """dia_id → the text memhub embeds for that turn (``keys.dense_key``)."""
    from memhub.pipeline import keys

    texts: dict[str, str] = {}
    for events in locomo_sessions(conv):
        for i, event in enumerate(events):
            texts[event.id] = keys.dense_key(event, events[:i])
    return texts


def _pairs(
    data: list[dict[str, Any]], index: int, negatives: str, rng: random.Random
) -> tuple[list[str], list[str], list[int]]:
    """(question, passage, relevant?) for one conversation; negatives from it ("same") or the others."""
    texts = _turn_keys(data[index])
    if negatives == "same":
        pool: list[str] = []
    else:
        pool = [t for j, conv in enumerate(data) if j != index for t in _turn_keys(conv).values()]
    questions, passages, labels = [], [], []
    for qa in data[index]["qa"]:
        if qa["category"] == 5:
            continue
        evidence = _normalise(qa["evidence"]) & set(texts)
        if not evidence:
            continue
        others = pool or [texts[i] for i in sorted(texts) if i not in evidence]
        for dia in sorted(evidence):
            questions.append(qa["question"])
            passages.append(texts[dia])
            labels.append(1)
        for text in rng.sample(others, len(evidence)):
            questions.append(qa["question"])
            passages.append(text)
            labels.append(0)
    return questions, passages, labels


_VECTORS: dict[str, np.ndarray] = {}


def _cosines(questions: list[str], passages: list[str]) -> np.ndarray:
    from memhub.pipeline.embedders.local_onnx import LocalEmbedder

    missing = sorted({*questions, *passages} - set(_VECTORS))
    if missing:
        _VECTORS.update(zip(missing, np.asarray(LocalEmbedder().embed(missing)), strict=True))
    return np.array(
        [float(np.dot(_VECTORS[q], _VECTORS[p])) for q, p in zip(questions, passages, strict=True)]
    )


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """1-D logistic regression by Newton's method: P = 1 / (1 + exp(-(a x + b)))."""
    a, b = 0.0, 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a * x + b)))
        w = p * (1 - p)
        grad = np.array([np.sum((p - y) * x), np.sum(p - y)])
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-9:
            break
    return float(a), float(b)


def _check(x: np.ndarray, y: np.ndarray, a: float, b: float) -> dict[str, Any]:
    p = 1 / (1 + np.exp(-(a * x + b)))
    bins = np.linspace(0, 1, 11)
    ece = 0.0
    for lo, hi in itertools.pairwise(bins):
        inside = (p >= lo) & (p < hi)
        if inside.any():
            ece += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    kept = p >= 0.65
    return {
        "pairs": len(y),
        "ece": round(float(ece), 3),
        "at_0.65": {
            "precision": round(float(y[kept].mean()), 3) if kept.any() else None,
            "recall": round(float(kept[y == 1].mean()), 3),
        },
    }


def main() -> None:
    if not LOCOMO.exists():
        sys.exit("locomo10.json not found")
    data = json.loads(LOCOMO.read_text())
    report: dict[str, Any] = {
        "command": "nice -n 10 python bench/gomemory_threshold.py",
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    for negatives in ("same", "other"):
        rng = random.Random(22)
        split: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, indexes in (("fit_0_4", range(5)), ("check_5_9", range(5, 10))):
            qs: list[str] = []
            ps: list[str] = []
            ys: list[int] = []
            for index in indexes:
                q, p, y = _pairs(data, index, negatives, rng)
                qs += q
                ps += p
                ys += y
            split[name] = (_cosines(qs, ps), np.array(ys, dtype=float))
        a, b = _fit(*split["fit_0_4"])
        report[f"negatives_{negatives}_conversation"] = {
            "a": round(a, 4),
            "b": round(b, 4),
            "cosine_for_probability": {
                str(t): round((math.log(t / (1 - t)) - b) / a, 4) for t in (0.5, 0.65, 0.8, 0.9)
            },
            "fit_0_4": _check(*split["fit_0_4"], a, b),
            "check_5_9": _check(*split["check_5_9"], a, b),
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
