"""``memhub bench locomo``: turn-level evidence recall of memhub's search on LoCoMo.

Protocol (``docs/benchmarks/locomo-scoring.md``):

* one memhub user per conversation, never searched across conversations;
* every session is ingested in order as **one** ``memories.add`` call through the public client: each
  turn a message with the speaker as ``name``, the ``dia_id`` as the message id and the session's date
  as its timestamp; shared images enter as their caption appended to the turn text; then wait for jobs;
* every question (categories 1–4 are the headline; 5, adversarial, is reported on its own) searches its
  conversation's user once with ``limit = max(k)``; recall@k for smaller k is read off that one ranking,
  so the reported latency is that of the single search the metrics come from;
* memories are scored through their provenance (``SearchResult.sources`` = the caller's message ids);
* the baselines are the *same* memhub index searched with ``mode="keyword"`` and ``mode="dense"``.

Conversations 0–4 of the file are the tuning split and 5–9 the held-out split; every number is
reported for both and for all ten, so a change that only helps the tuning half shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .calibration import reliability
from .locomo_data import ANSWERABLE, CATEGORIES, Conversation, Question, load
from .scoring import Tally, percentile, score_question

DEFAULT_KS = (1, 5, 10, 20)
CALIBRATION_K = 10  # the calibration report covers the top 10 results of each search
THRESHOLD = 0.5  # the threshold whose precision and recall the calibration report gives
TUNE_SPLIT = range(5)  # conversations 0-4 by position in the file
QUICK_SESSIONS = 4
QUICK_QUESTIONS = 40
HEADLINE = "cats 1-4"


class Backend(Protocol):
    """Something that indexes conversations (one namespace each) and answers searches with provenance."""

    labels: tuple[str, ...]  # one column of results per label (memhub: one per search mode)

    def ingest(self, conv: Conversation, advance: Callable[[int], None]) -> None:
        """Index ``conv`` in its own namespace; call ``advance(n)`` as n turns are done."""
        ...

    def search(self, conv: Conversation, label: str, query: str, k: int) -> list[list[str]]:
        """The top ``k`` memories of ``conv``'s namespace, each as its list of source turn ids."""
        ...

    def server_ms(self) -> float | None:
        """Server-side time of the last search, where the backend can tell it apart (else None)."""
        ...

    def close(self) -> None: ...


@dataclass
class Progress:
    """Hooks for a progress display; the default does nothing (tests, library use)."""

    start_ingest: Callable[[int], None] = lambda total: None
    advance_ingest: Callable[[int], None] = lambda n: None
    start_search: Callable[[int], None] = lambda total: None
    advance_search: Callable[[int], None] = lambda n: None


@dataclass
class Calibration:
    """The top results' reported scores and relevance, and the evidence a 0.5 threshold keeps."""

    scores: list[float] = field(default_factory=list)
    labels: list[float] = field(default_factory=list)
    evidence: int = 0
    kept_evidence: int = 0


@dataclass
class LabelResult:
    """Everything measured for one label (system × mode)."""

    tallies: dict[str, dict[str, Tally]] = field(default_factory=dict)  # split -> group -> tally
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    sources_returned: int = 0
    memories_returned: int = 0
    last: list[list[str]] = field(default_factory=list)  # the ranking of the latest search
    last_scores: list[float] = field(default_factory=list)  # its reported scores, if the backend has them
    calibration: dict[str, Calibration] = field(default_factory=dict)  # per split

    def record_calibration(self, splits: Iterable[str], evidence: Collection[str]) -> None:
        """(reported score, relevant?) for each of the top results of the latest search, per split."""
        if not self.last_scores:
            return
        wanted = set(evidence)
        pairs = list(zip(self.last_scores, self.last, strict=False))[:CALIBRATION_K]
        kept = {e for s, sources in pairs if s >= THRESHOLD for e in sources}
        for split in splits:
            cal = self.calibration.setdefault(split, Calibration())
            cal.scores.extend(s for s, _ in pairs)
            cal.labels.extend(1.0 if wanted & set(sources) else 0.0 for _, sources in pairs)
            cal.evidence += len(wanted)
            cal.kept_evidence += len(wanted & kept)

    def record(self, splits: Iterable[str], groups: Iterable[str], scores: dict[str, float]) -> None:
        group_list = list(groups)
        for split in splits:
            by_group = self.tallies.setdefault(split, {})
            for group in group_list:
                by_group.setdefault(group, Tally()).add(scores)


@dataclass
class BenchResult:
    """The outcome of a run: per label, per split, per group, mean metrics; plus run metadata."""

    ks: tuple[int, ...]
    labels: dict[str, LabelResult]
    meta: dict[str, object]


def split_names(position: int) -> tuple[str, ...]:
    """The splits a conversation (by its position in the file) is reported in."""
    return ("all", "conv 0-4" if position in TUNE_SPLIT else "conv 5-9")


def group_names(question: Question) -> tuple[str, ...]:
    """A question counts in its category and, for categories 1-4, in the headline group."""
    name = question.category_name
    return (HEADLINE, name) if question.category in ANSWERABLE else (name,)


def quick_slice(
    conv: Conversation, sessions: int = QUICK_SESSIONS, limit: int = QUICK_QUESTIONS
) -> Conversation:
    """The first ``sessions`` sessions and up to ``limit`` questions answerable from them (CI-sized)."""
    kept = conv.sessions[:sessions]
    ids = {t.dia_id for s in kept for t in s.turns}
    questions = [q for q in conv.questions if q.evidence and set(q.evidence) <= ids][:limit]
    return replace(conv, sessions=kept, questions=tuple(questions))


def select(
    data: Path, convs: Sequence[int] | None, quick: bool, categories: Sequence[int]
) -> list[tuple[int, Conversation]]:
    """(position in file, conversation) pairs to run, questions filtered to ``categories``."""
    every = load(data)
    positions = list(convs) if convs is not None else list(range(len(every)))
    if quick and convs is None:
        positions = positions[:1]
    chosen = []
    for pos in positions:
        if not 0 <= pos < len(every):
            raise ValueError(f"conversation index {pos} is out of range (the file has {len(every)})")
        conv = quick_slice(every[pos]) if quick else every[pos]
        kept = tuple(q for q in conv.questions if q.category in categories and q.evidence)
        chosen.append((pos, replace(conv, questions=kept)))
    return chosen


def run(
    backend: Backend,
    conversations: Sequence[tuple[int, Conversation]],
    ks: Sequence[int] = DEFAULT_KS,
    progress: Progress | None = None,
) -> BenchResult:
    """Ingest every conversation, then ask each question under every label and tally the metrics.

    Everything is ingested before the first search so that each search sees a store holding all ten
    users, as a real server would: keyword statistics (BM25's IDF) are store-wide, so searching one
    conversation while the others are not yet indexed would score it against a different corpus.
    """
    hooks = progress or Progress()
    kmax = max(ks)
    labels = {label: LabelResult() for label in backend.labels}
    hooks.start_ingest(sum(c.turn_count() for _, c in conversations))
    for _, conv in conversations:
        backend.ingest(conv, hooks.advance_ingest)
    hooks.start_search(sum(len(c.questions) for _, c in conversations) * len(labels))
    for position, conv in conversations:
        for question in conv.questions:
            for label, result in labels.items():
                _ask(backend, conv, label, question, kmax, result)
                result.record(split_names(position), group_names(question), _scores(question, result, ks))
                if question.category in ANSWERABLE:
                    result.record_calibration(split_names(position), question.evidence)
                hooks.advance_search(1)
    meta: dict[str, object] = {
        "conversations": [c.sample_id for _, c in conversations],
        "positions": [p for p, _ in conversations],
        "questions": sum(len(c.questions) for _, c in conversations),
        "turns": sum(c.turn_count() for _, c in conversations),
    }
    return BenchResult(ks=tuple(ks), labels=labels, meta=meta)


def _ask(
    backend: Backend, conv: Conversation, label: str, question: Question, kmax: int, result: LabelResult
) -> None:
    """One timed search; its ranking is left in ``result.last`` for scoring."""
    started = time.perf_counter()
    ranked = backend.search(conv, label, question.question, kmax)
    result.latencies_ms.append((time.perf_counter() - started) * 1000.0)
    server = backend.server_ms()
    if server is not None:
        result.server_ms.append(server)
    result.memories_returned += len(ranked)
    result.sources_returned += sum(len(s) for s in ranked)
    result.last = ranked
    scores = getattr(backend, "scores", None)
    result.last_scores = list(scores()) if callable(scores) else []


def _scores(question: Question, result: LabelResult, ks: Sequence[int]) -> dict[str, float]:
    return score_question(question.evidence, result.last, ks, ndcg_k=10)


def _latency(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": sum(values) / len(values) if values else float("nan"),
        "n": len(values),
    }


def summary(result: BenchResult) -> dict[str, Any]:
    """A JSON-ready summary: per label, latency and per split × group mean metrics (in [0, 1])."""
    out: dict[str, Any] = {"ks": list(result.ks), "meta": result.meta, "categories": CATEGORIES}
    labels: dict[str, Any] = {}
    for label, res in result.labels.items():
        groups = {
            split: {g: {"n": t.n, **t.means()} for g, t in sorted(by_group.items(), key=_group_order)}
            for split, by_group in res.tallies.items()
        }
        labels[label] = {
            "latency_ms": _latency(res.latencies_ms),
            "server_latency_ms": _latency(res.server_ms) if res.server_ms else None,
            "mean_sources_per_memory": res.sources_returned / res.memories_returned
            if res.memories_returned
            else 0.0,
            "splits": groups,
        }
        if res.calibration:
            labels[label]["calibration"] = {
                split: _calibration(cal) for split, cal in res.calibration.items()
            }
    out["systems"] = labels
    return out


def _calibration(cal: Calibration) -> dict[str, Any]:
    """ECE and reliability bins of the top-k scores; precision and evidence recall of threshold 0.5.

    Precision: the share of the top-k results scoring at least 0.5 that are relevant. Recall: the share
    of all evidence turns that those results cover (the same results without a threshold cover R@k).
    """
    fit = reliability(cal.scores, cal.labels)
    return {
        "k": CALIBRATION_K,
        "results": fit.n,
        "relevant_rate": fit.base_rate,
        "ece": fit.ece,
        "threshold": THRESHOLD,
        "kept_share": sum(1 for s in cal.scores if s >= THRESHOLD) / max(1, len(cal.scores)),
        "precision": fit.precision_at_half,
        "evidence_recall": cal.kept_evidence / cal.evidence if cal.evidence else float("nan"),
        "bins": fit.bins,
    }


def _group_order(item: tuple[str, Tally]) -> tuple[int, str]:
    order = [HEADLINE, *(CATEGORIES[c] for c in (4, 1, 2, 3, 5))]
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


# ---------------------------------------------------------------------------------------------------
# A whole run as the CLI does it: build backends, run them on the same questions, merge, report.


@dataclass
class Options:
    """What ``memhub bench locomo`` was asked to do (the click layer only parses into this)."""

    data: Path
    convs: Sequence[int] | None = None
    ks: Sequence[int] = DEFAULT_KS
    out: Path | None = None
    plot: Path | None = None
    quick: bool = False
    systems: Sequence[str] = ("memhub",)
    modes: Sequence[str] = ("hybrid", "keyword", "dense")
    adversarial: bool = True
    store: Path | None = None


def make_backend(system: str, options: Options) -> Backend:
    """A backend by name: ``memhub`` (the product), or a README reference (``bm25-ref``, ``dense-ref``)."""
    if system == "memhub":
        from .memhub_backend import MemhubBackend

        return MemhubBackend(options.store, options.modes)
    if system == "bm25-ref":
        from .references import BM25Reference

        return BM25Reference()
    if system == "dense-ref":
        from memhub.runtime import build_embedder
        from memhub.settings import Settings

        from .references import DenseReference

        return DenseReference(build_embedder(Settings()).embed)
    raise ValueError(f"unknown system {system!r} (memhub, bm25-ref, dense-ref)")


def execute(options: Options, progress: Progress | None = None) -> dict[str, Any]:
    """Run every requested system on the same questions and return the merged JSON-ready summary."""
    categories = (*ANSWERABLE, 5) if options.adversarial else ANSWERABLE
    conversations = select(options.data, options.convs, options.quick, categories)
    merged: dict[str, Any] = {"meta": {}}
    systems: dict[str, Any] = {}
    for system in options.systems:
        backend = make_backend(system, options)
        try:
            part = summary(run(backend, conversations, options.ks, progress))
        finally:
            backend.close()
        systems.update(part["systems"])
        merged = part
    merged["systems"] = systems
    merged["meta"] = {
        **merged["meta"],
        "data": str(options.data),
        "quick": options.quick,
        "unit": "turn (evidence dia_id), scored through memory provenance",
        "captions_indexed": True,
        "search_limit": max(options.ks),
        "headline": f"{HEADLINE}: categories 1-4 with evidence; adversarial (5) reported separately"
        if options.adversarial
        else f"{HEADLINE}: categories 1-4 with evidence; adversarial (5) excluded",
    }
    return merged
