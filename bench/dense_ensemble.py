"""Replica: would the fast model (paraphrase-MiniLM-L3-v2) as a second dense signal beside the default
(all-MiniLM-L6-v2) improve hybrid ranking? (``docs/decisions/dense-ensemble.md``)

    memhub bench locomo --store /tmp/locomo-store --modes hybrid     # an L6 index, built once
    nice -n 10 python bench/dense_ensemble.py gather --store /tmp/locomo-store --out /tmp/ens.pkl
    nice -n 10 python bench/dense_ensemble.py gather-text --store /tmp/locomo-store --rows /tmp/ens.pkl
    nice -n 10 python bench/dense_ensemble.py fit --rows /tmp/ens.pkl --out bench/results/dense_ensemble.json
    nice -n 10 python bench/dense_ensemble.py check --store /tmp/locomo-store --rows /tmp/ens.pkl

``gather`` embeds every chunk's stored dense key (the text the L6 vector was made from) and every
question with L3, and records for each question (all ten conversations, categories 1-5) the union of
four candidate lists over the question's user: the keyword search's, L6's, L3's and the average cosine's
top 100 (exact, by numpy), each candidate with both cosines, its BM25, its position in each list, the
query signals a search computes from the memories (``Retriever._add_query_signals`` over the whole
pool, as ``fit_relevance.py`` does), its label and its sources. ``gather-text`` adds L3's cosine to the
memory's bare text (a second view: no date, speaker or previous turn). Nothing is written to the store,
and the rows (derived from the data set) stay in /tmp: only the aggregate figures enter the repository.

``fit`` builds each variant's pool from those lists (each retriever's top 100: the bench searches with
limit 20, its largest k, and the fit uses 20 too), computes the pool features as
``retrieval._pool_features`` does plus the variant's extra ones, refits the hybrid ranking on
conversations 0-4 (``calibration.fit_ranking``, speaker held at 0.8 as the shipped fit), gives the
memory signals to the head of 100 memories only (as a search) and scores the
top 10 of every question with the bench's metrics, per split and category. Variants: ``base`` (today's
signals), ``l3`` (+ L3 cosine raw, z-score over the pool, rank), ``l3raw`` (+ raw and rank), ``avg``
(the mean of the two cosines as the cosine, dense list by it), ``+cands`` (L3's top 100 join the pool),
``l3text`` / ``l3both`` (L3 over the bare text, alone / beside the key's).
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from common import LOCOMO
from fit_relevance import EVERY_SIGNAL

from memhub.benchmarks.calibration import fit_ranking
from memhub.benchmarks.locomo import select
from memhub.benchmarks.scoring import score_question
from memhub.core.clock import SystemClock
from memhub.core.models import Scope, SearchMode, SearchRequest
from memhub.core.relevance import FEATURES, QUERY_SIGNALS
from memhub.core.retrieval import (
    KEYWORD_NOISE,
    Retriever,
    _Candidate,
    _per_memory,
    _score_pool,
    _shared_ranks,
)
from memhub.embedded.engine import embedded_settings
from memhub.pipeline.embedders.local_onnx import FAST_MODEL_ID, LocalEmbedder
from memhub.runtime import Runtime

REPO = Path(__file__).resolve().parent.parent
DATA = LOCOMO  # override with --data
POOL = 100
BENCH_POOL = 100
"""The bench searches with limit 20 (its largest k) and reads Rall@10 off the top 10: a pool of 5 × 20
per retriever and memory signals for a head of 5 × 20 memories (``Retriever`` defaults)."""
LISTS = ("kw", "l6", "l3", "avg")
QUERY_FEATURES = QUERY_SIGNALS


def conversations(data: Path, quick: bool) -> list[tuple[int, Any]]:
    """Every conversation with its questions of all five categories (``quick``: the bench's CI slice)."""
    return select(data, None, quick, (1, 2, 3, 4, 5))


def _chunk_table(
    runtime: Runtime, tenant_id: str
) -> tuple[list[str], list[str], list[str | None], list[str]]:
    conn = runtime.store._db.read  # type: ignore[attr-defined]
    with conn() as c:
        rows = c.execute(
            "SELECT c.id AS cid, m.id AS mid, m.user_id AS uid, c.dense_key AS dk FROM chunks c"
            " JOIN memories m ON m.rid = c.memory_rid WHERE m.tenant_id = ? AND m.superseded_by IS NULL"
            " ORDER BY c.rid",
            (tenant_id,),
        ).fetchall()
    return (
        [r["cid"] for r in rows],
        [r["mid"] for r in rows],
        [r["uid"] for r in rows],
        [r["dk"] for r in rows],
    )


def gather(store: Path, out: Path, data: Path, quick: bool) -> None:
    runtime = Runtime.open(embedded_settings(store))
    try:
        tenant = runtime.store.find_tenant("default")
        assert tenant is not None
        space = runtime.service.resolve_space(tenant.id, None).id
        l6 = runtime.embedder
        l3 = LocalEmbedder(model=FAST_MODEL_ID)
        cids, mids, uids, keys = _chunk_table(runtime, tenant.id)
        started = time.process_time()
        v3 = np.asarray(l3.embed(keys), dtype=np.float32)
        print(f"L3: {len(keys)} dense keys embedded in {time.process_time() - started:.1f} s CPU")
        stored = runtime.store.chunk_vectors(l6.model_id, cids)
        v6 = np.stack([stored[c] for c in cids]).astype(np.float32)
        users = np.array([u or "" for u in uids])
        retriever = Retriever(runtime.store, l6, SystemClock(), head_factor=10**6)
        records: list[dict[str, Any]] = []
        checked = 0
        for position, conv in conversations(data, quick):
            scope = Scope(tenant_id=tenant.id, space_ids=[space], user_id=conv.sample_id)
            rows = np.flatnonzero(users == conv.sample_id)
            for question in conv.questions:
                q6 = np.asarray(l6.embed([question.question])[0], dtype=np.float32)
                q3 = np.asarray(l3.embed([question.question])[0], dtype=np.float32)
                c6, c3 = v6[rows] @ q6, v3[rows] @ q3
                lists: dict[str, list[str]] = {}
                for name, score in (("l6", c6), ("l3", c3), ("avg", (c6 + c3) / 2)):
                    top = rows[np.lexsort((np.array([cids[i] for i in rows]), -score))[:POOL]]
                    lists[name] = [cids[i] for i in top]
                if checked < 20:  # the numpy L6 list is the store's own vector search
                    hits = runtime.store.vector_search(scope, None, l6.model_id, q6, 50)
                    assert [h.chunk_id for h in hits][:45] == lists["l6"][:45], "L6 lists differ"
                    checked += 1
                kw = runtime.store.keyword_search(scope, None, question.question, POOL)
                lists["kw"] = [h.chunk_id for h in kw]
                kw_score = {h.chunk_id: h.score for h in kw}
                index = {cids[i]: (i, j) for j, i in enumerate(rows)}
                found: dict[str, _Candidate] = {}
                for cid in {c for ids in lists.values() for c in ids}:
                    i, j = index[cid]
                    found[cid] = _Candidate(cid, mids[i], float(c6[j]), kw_score.get(cid, 0.0))
                cands = _per_memory(found)
                request = SearchRequest(
                    query=question.question, user_id=conv.sample_id, limit=20, mode=SearchMode.HYBRID
                )
                _score_pool(cands, EVERY_SIGNAL)  # the query signals start from the pool's features
                memories = retriever._add_query_signals(tenant.id, request, q6, cands, EVERY_SIGNAL)
                evidence = set(question.evidence)
                pos = {name: {c: k for k, c in enumerate(ids)} for name, ids in lists.items()}
                cand_rows = []
                for cid, cand in cands.items():
                    memory = memories.get(cand.memory_id)
                    if memory is None:
                        continue
                    i, j = index[cid]
                    sources = [s.public_id for s in memory.sources]
                    cand_rows.append(
                        {
                            "id": cid,
                            "cos6": cand.ranking_cosine,  # the topic cosine when the query names a speaker
                            "cos3": float(c3[j]),
                            "kw": cand.keyword,
                            "pos": {n: pos[n].get(cid, 10**6) for n in LISTS},
                            "q": {n: cand.features.get(n, 0.0) for n in QUERY_FEATURES},
                            "y": 1.0 if evidence & set(sources) else 0.0,
                            "sources": sources,
                        }
                    )
                records.append(
                    {
                        "conv": position,
                        "category": question.category,
                        "name": question.category_name,
                        "evidence": list(question.evidence),
                        "cands": cand_rows,
                    }
                )
            print(f"conversation {position}: {len(conv.questions)} questions", flush=True)
    finally:
        runtime.close()
    out.write_bytes(pickle.dumps(records))
    print(f"wrote {out}: {len(records)} questions")


def gather_text(store: Path, rows: Path, data: Path, quick: bool) -> None:
    """Adds ``cos3t``: L3's cosine to the memory's own text (no date, speaker or previous turn)."""
    records = pickle.loads(rows.read_bytes())
    runtime = Runtime.open(embedded_settings(store))
    try:
        tenant = runtime.store.find_tenant("default")
        assert tenant is not None
        with runtime.store._db.read() as c:  # type: ignore[attr-defined]
            texts = {
                r["cid"]: r["text"]
                for r in c.execute(
                    "SELECT c.id AS cid, m.text AS text FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
                ).fetchall()
            }
    finally:
        runtime.close()
    l3 = LocalEmbedder(model=FAST_MODEL_ID)
    ids = list(texts)
    vectors = dict(zip(ids, np.asarray(l3.embed([texts[i] for i in ids]), dtype=np.float32), strict=True))
    questions = [q for _, conv in conversations(data, quick) for q in conv.questions]
    assert len(questions) == len(records)
    for record, question in zip(records, questions, strict=True):
        q3 = np.asarray(l3.embed([question.question])[0], dtype=np.float32)
        for cand in record["cands"]:
            cand["cos3t"] = float(vectors[cand["id"]] @ q3)
    rows.write_bytes(pickle.dumps(records))
    print(f"added cos3t to {rows}")


# --- fitting and scoring ---------------------------------------------------------------------------


def _ranks(ids: list[str], value: dict[str, float], keep: set[str] | None = None) -> dict[str, float]:
    ordered = sorted((c for c in ids if keep is None or c in keep), key=lambda c: (-value[c], c))
    return {c: 1.0 / (1.0 + p) for c, p in _shared_ranks(ordered, lambda c: value[c])}


def features(cands: list[dict[str, Any]], variant: str, depth: int) -> tuple[list[str], np.ndarray]:
    """The variant's feature names and matrix over one pool (``_pool_features`` plus extras); a
    candidate below the keyword search's ``depth`` has no BM25, as in a search."""
    ids = [c["id"] for c in cands]
    cos6 = {c["id"]: c["cos6"] for c in cands}
    cos3 = {c["id"]: c["cos3"] for c in cands}
    cosine = {k: (cos6[k] + cos3[k]) / 2 for k in ids} if variant.startswith("avg") else cos6
    kw = {c["id"]: c["kw"] if c["pos"]["kw"] < depth else 0.0 for c in cands}
    dense_rank = _ranks(ids, cosine)
    keyword_rank = _ranks(ids, kw, {c for c in ids if kw[c] >= KEYWORD_NOISE})
    names = list(FEATURES)
    extra: list[str] = []
    if variant in ("l3", "l3+cands"):
        extra = ["cos3", "cos3_z", "cos3_rank"]
    elif variant in ("l3raw", "l3raw+cands"):
        extra = ["cos3", "cos3_rank"]
    elif variant == "l3text":
        extra = ["cos3t"]
    elif variant == "l3both":
        extra = ["cos3", "cos3t"]
    values3 = np.array([cos3[k] for k in ids])
    mean, std = values3.mean(), values3.std() or 1.0
    rank3 = _ranks(ids, cos3)
    matrix = []
    for c in cands:
        k = c["id"]
        row = {
            "cosine": cosine[k],
            "keyword_log": math.log1p(max(kw[k], 0.0)),
            "dense_rank": dense_rank.get(k, 0.0),
            "keyword_rank": keyword_rank.get(k, 0.0),
            **c["q"],
            "cos3": cos3[k],
            "cos3_z": max(0.0, (cos3[k] - mean) / std),
            "cos3_rank": rank3[k],
            "cos3t": c.get("cos3t", 0.0),
        }
        matrix.append([row[n] for n in names + extra])
    return names + extra, np.array(matrix).reshape(len(cands), len(names) + len(extra))


def pool(record: dict[str, Any], variant: str, depth: int) -> list[dict[str, Any]]:
    """The candidates a search with this variant would see (``depth``: each retriever's pool size)."""
    lists = {"kw", "avg"} if variant.startswith("avg") else {"kw", "l6"}
    if variant.endswith("+cands"):
        lists.add("l3")
    return [c for c in record["cands"] if any(c["pos"][n] < depth for n in lists)]


def _head_only(x: np.ndarray, names: list[str], w: np.ndarray, head: int) -> np.ndarray:
    """As a search: the memory signals only for the ``head`` best by the other signals (5 × limit)."""
    query = np.array([n in QUERY_FEATURES for n in names])
    partial = x[:, ~query] @ w[~query]
    outside = np.ones(len(x), dtype=bool)
    outside[np.argsort(-partial, kind="stable")[:head]] = False
    x = x.copy()
    x[np.ix_(outside, query)] = 0.0
    return x


def evaluate(records: list[dict[str, Any]], variant: str, fix: dict[str, float]) -> dict[str, Any]:
    tune = [r for r in records if r["conv"] < 5 and r["category"] != 5]
    groups = []
    names: list[str] = []
    for r in tune:
        cands = pool(r, variant, 100)
        names, x = features(cands, variant, 100)
        groups.append((x, np.array([c["y"] for c in cands])))
    fit = fit_ranking(groups, names, fix)
    w = np.array([fit.weights.get(n, 0.0) for n in names])
    tallies: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    per_question: list[float] = []
    for r in records:
        cands = pool(r, variant, BENCH_POOL)
        _, x = features(cands, variant, BENCH_POOL)
        x = _head_only(x, names, w, BENCH_POOL)
        order = sorted(range(len(cands)), key=lambda i: (-(x[i] @ w), cands[i]["id"]))[:10]
        ranked = [cands[i]["sources"] for i in order]
        scores = score_question(r["evidence"], ranked, (1, 5, 10))
        per_question.append(scores["Rall@10"])
        split = "tune" if r["conv"] < 5 else "held"
        for s in ("all", split):
            tallies[(s, r["name"])].append(scores)
            if r["category"] != 5:
                tallies[(s, "cats 1-4")].append(scores)
    means = {
        key: {m: 100 * sum(v[m] for v in vals) / len(vals) for m in ("Rall@10", "R@5", "R@10")}
        for key, vals in tallies.items()
    }
    return {"weights": fit.weights, "intercept": fit.intercept, "means": means, "per_question": per_question}


def line(variant: str, res: dict[str, Any]) -> str:
    m = res["means"]

    def g(split: str, group: str, metric: str = "Rall@10") -> str:
        return f"{m[(split, group)][metric]:.1f}" if (split, group) in m else "-"

    return (
        f"{variant:12s} all Rall10 {g('all', 'cats 1-4')} R5 {g('all', 'cats 1-4', 'R@5')} | "
        f"tune Rall10 {g('tune', 'cats 1-4')} R5 {g('tune', 'cats 1-4', 'R@5')} | "
        f"held Rall10 {g('held', 'cats 1-4')} R5 {g('held', 'cats 1-4', 'R@5')} "
        f"R10 {g('held', 'cats 1-4', 'R@10')} | mh {g('all', 'multi-hop')} (t {g('tune', 'multi-hop')} "
        f"h {g('held', 'multi-hop')}) tmp {g('all', 'temporal')} (h {g('held', 'temporal')}) "
        f"od {g('all', 'open-domain')} (h {g('held', 'open-domain')}) sh {g('all', 'single-hop')} "
        f"(h {g('held', 'single-hop')}) adv {g('all', 'adversarial')} (h {g('held', 'adversarial')})"
    )


def _paired(records: list[dict[str, Any]], base: dict[str, Any], other: dict[str, Any]) -> str:
    """Questions whose Rall@10 rose / fell, and a 95 % bootstrap interval of the mean change (points)."""
    held = [i for i, r in enumerate(records) if r["conv"] >= 5 and r["category"] != 5]
    if not held:
        return "no held-out questions"
    diff = np.array([other["per_question"][i] - base["per_question"][i] for i in held])
    rng = np.random.default_rng(0)
    boot = [100 * diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(2000)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    moved = f"+{int((diff > 0).sum())} / -{int((diff < 0).sum())} of {len(diff)}"
    return f"{moved}, mean {100 * diff.mean():+.2f} [{lo:+.2f}, {hi:+.2f}]"


def check(store: Path, records: list[dict[str, Any]], data: Path, quick: bool) -> None:
    """The replica's ``base`` against the real search: the questions whose Rall@10 differ."""
    mine = evaluate(records, "base", {"speaker": 0.8})["per_question"]
    runtime = Runtime.open(embedded_settings(store))
    differ = []
    try:
        tenant = runtime.store.find_tenant("default")
        assert tenant is not None
        space = runtime.service.resolve_space(tenant.id, None).id
        retriever = Retriever(runtime.store, runtime.embedder, SystemClock())
        questions = [(conv, q) for _, conv in conversations(data, quick) for q in conv.questions]
        for i, (conv, q) in enumerate(questions):
            scope = Scope(tenant_id=tenant.id, space_ids=[space], user_id=conv.sample_id)
            request = SearchRequest(
                query=q.question, user_id=conv.sample_id, limit=20, mode=SearchMode.HYBRID
            )
            ranked = [r.sources for r in retriever.search(scope, None, request)]
            if score_question(q.evidence, ranked, (10,))["Rall@10"] != mine[i]:
                differ.append(i)
    finally:
        runtime.close()
    print(f"base vs Retriever.search(limit=20): Rall@10 differs on {len(differ)} of {len(mine)} questions")


def overlap(records: list[dict[str, Any]]) -> None:
    """Do the two models fail on different questions? Dense-only top 10 by each cosine (cats 1-4)."""
    scorers = {
        "L6": lambda c: c["cos6"],
        "L3": lambda c: c["cos3"],
        "avg": lambda c: (c["cos6"] + c["cos3"]) / 2,
    }
    for split, held in (("tune", False), ("held", True)):
        hits: dict[str, list[float]] = {name: [] for name in scorers}
        for r in records:
            if r["category"] == 5 or (r["conv"] >= 5) != held:
                continue
            for name, score in scorers.items():
                top = sorted(r["cands"], key=lambda c, f=score: (-f(c), c["id"]))[:10]
                ranked = [c["sources"] for c in top]
                hits[name].append(score_question(r["evidence"], ranked, (10,))["Rall@10"])
        if not hits["L6"]:
            continue
        six, three = np.array(hits["L6"]), np.array(hits["L3"])
        only6, only3 = int(((six > 0) & (three == 0)).sum()), int(((three > 0) & (six == 0)).sum())
        print(
            f"dense-only Rall@10 {split}: L6 {100 * six.mean():.1f} L3 {100 * three.mean():.1f} "
            f"avg {100 * np.mean(hits['avg']):.1f} | either {100 * np.maximum(six, three).mean():.1f} | "
            f"L6 only {only6}, L3 only {only3} of {len(six)}"
        )


VARIANTS = ("base", "l3", "l3raw", "l3+cands", "l3raw+cands", "avg", "avg+cands", "l3text", "l3both")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gather")
    g.add_argument("--store", type=Path, required=True)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--data", type=Path, default=DATA)
    g.add_argument("--quick", action="store_true", help="the slice of memhub bench locomo --quick")
    t = sub.add_parser("gather-text")
    t.add_argument("--store", type=Path, required=True)
    t.add_argument("--rows", type=Path, required=True)
    t.add_argument("--data", type=Path, default=DATA)
    t.add_argument("--quick", action="store_true", help="the slice of memhub bench locomo --quick")
    f = sub.add_parser("fit")
    f.add_argument("--rows", type=Path, required=True)
    f.add_argument("--variants", default=",".join(VARIANTS))
    f.add_argument("--out", type=Path, help="JSON of every variant's weights and means")
    c = sub.add_parser("check", help="the replica's base ranking against the real search")
    c.add_argument("--store", type=Path, required=True)
    c.add_argument("--rows", type=Path, required=True)
    c.add_argument("--data", type=Path, default=DATA)
    c.add_argument("--quick", action="store_true", help="the slice of memhub bench locomo --quick")
    args = parser.parse_args()
    if args.command == "gather":
        gather(args.store, args.out, args.data, args.quick)
        return
    if args.command == "gather-text":
        gather_text(args.store, args.rows, args.data, args.quick)
        return
    records = pickle.loads(args.rows.read_bytes())
    if args.command == "check":
        check(args.store, records, args.data, args.quick)
        return
    overlap(records)
    results = {}
    for variant in args.variants.split(","):
        res = evaluate(records, variant, {"speaker": 0.8})
        results[variant] = res
        print(line(variant, res), flush=True)
        print("   weights", {k: round(v, 3) for k, v in res["weights"].items()})
        if "base" in results and variant != "base":
            print("   held-out cats 1-4 Rall@10 vs base (questions):", _paired(records, results["base"], res))
    if args.out:
        import json

        args.out.write_text(
            json.dumps(
                {
                    v: {
                        "weights": r["weights"],
                        "intercept": r["intercept"],
                        "means": {f"{s}/{g}": x for (s, g), x in r["means"].items()},
                    }
                    for v, r in results.items()
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
