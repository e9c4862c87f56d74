"""Replica: can "soft lexical" signals built from the bundled model's own word vectors reach evidence
that shares no word with the question? (``docs/decisions/soft-term-match.md``, issue 21)

    memhub bench locomo --store /tmp/locomo-store --modes hybrid          # an index, built once
    nice -n 10 python bench/soft_terms.py words --out /tmp/st/words.npz
    nice -n 10 python bench/soft_terms.py gather --store /tmp/locomo-store --out /tmp/st/pool.pkl
    nice -n 10 python bench/soft_terms.py query-exp --store /tmp/locomo-store --words /tmp/st/words.npz \\
        --rows /tmp/st/pool.pkl --out /tmp/st/qexp.pkl
    nice -n 10 python bench/soft_terms.py expand --store /tmp/locomo-store --words /tmp/st/words.npz \\
        --k 10 --out /tmp/st/store-x10                                    # a copy; --raw / --names
    nice -n 10 python bench/soft_terms.py gather --store /tmp/st/store-x10 --out /tmp/st/pool-x10.pkl
    nice -n 10 python bench/soft_terms.py fit --rows /tmp/st/pool.pkl --words /tmp/st/words.npz \\
        --qexp /tmp/st/qexp.pkl --expanded x10=/tmp/st/pool-x10.pkl --out bench/results/soft_terms.json

``words``: the word table. Every whole-word entry of the bundled tokenizer's vocabulary (ASCII letters,
two or more, not a stop word: 21,592 words) embedded alone by the bundled model (``LocalEmbedder``,
all-MiniLM-L6-v2); nothing is downloaded. ``gather``: each question's hybrid candidate pool (pool 100
per retriever, the bench's limit 20) with its features, the memory signals computed for the whole pool
(as ``fit_relevance.py``), the memory's text and keyword key; the rows stay in /tmp (derived from the
data set). ``query-exp``: for each question, the vocabulary words nearest its topic vector (the query
vector less the named speakers' directions, as ``Retriever._drop_named``, centred) that the query does
not hold, and the BM25 of a keyword search for the first 3 / 5 / 10 of them. ``expand``: a copy of the
store whose every chunk's keyword key gains the ``k`` vocabulary words nearest its stored dense vector
(centred; ``--names``: less the speakers' name directions; ``--raw``: not centred; ``--from-words``:
nearest the mean of its text's centred word vectors instead) that the key does not hold, the keyword
index rebuilt (document expansion without an LLM). ``fit``: for each variant the
hybrid weights are refitted on conversations 0-4 (``calibration.fit_ranking``, speaker held at 0.8 as
the shipped fit) and the top 10 of every question scored with the bench's metrics, per split and
category (today's signals refitted reproduce the bench's line on main to the decimal).

Soft term match (``soft*``): for each content word of the query (its named speakers left out), the
best cosine to any content word of the memory's text (or key) in the word table, averaged over the
query's words (a MaxSim over static word vectors). A query word outside the vocabulary is embedded
alone. ``_c``: vectors centred (the table's mean subtracted: raw word vectors share a large common
component, cosine ~0.3 between unrelated words); ``clip3``: each best cosine rescaled from [0.3, 1] to
[0, 1] first; ``key``: the memory's keyword key (the turn and its neighbours) instead of its text;
``max``: the best query word instead of the mean; ``rev``: each memory word's best query word, averaged.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import LOCOMO
from fit_relevance import WHOLE_POOL_SIGNALS, question_pools

from memhub.benchmarks.calibration import fit_ranking
from memhub.core.clock import SystemClock
from memhub.core.models import Scope, SearchMode, SearchRequest
from memhub.core.ranking import STOP_WORDS, content_words, names_in, terms
from memhub.core.relevance import FEATURES
from memhub.core.retrieval import SPEAKER_KEY, Retriever, _Candidate
from memhub.embedded.engine import embedded_settings
from memhub.pipeline.embedders.local_onnx import LocalEmbedder
from memhub.runtime import Runtime
from memhub.storage.sql.analysis import KeywordAnalyser

REPO = Path(__file__).resolve().parent.parent
TOKENIZER = REPO / "src" / "memhub" / "pipeline" / "model" / "tokenizer.json"
LIMIT = 20  # the bench's largest k: its pool is max(100, 5 x 20) per retriever
QUERY_KS = (3, 5, 10)
FI = {name: i for i, name in enumerate(FEATURES)}
Row = dict[str, Any]


# --- the word table ---------------------------------------------------------------------------------


def vocabulary() -> list[str]:
    """The tokenizer's whole-word entries: ASCII letters, two or more, no stop word."""
    vocab = json.loads(TOKENIZER.read_text())["model"]["vocab"]
    return [w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 2 and w not in STOP_WORDS]


def build_words(out: Path, most: int | None) -> None:
    words = vocabulary()[:most]
    embedder = LocalEmbedder(threads=1, batch_size=256, max_batch_tokens=4096)
    started = time.process_time()
    vectors = embedder.embed(words)
    cpu = time.process_time() - started
    np.savez(out, words=np.array(words), vectors=vectors.astype(np.float32))
    print(f"{len(words)} words embedded in {cpu:.1f} s CPU; {vectors.nbytes / 1e6:.1f} MB as float32")


class Table:
    """The word table, raw and centred."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.words: list[str] = [str(w) for w in data["words"]]
        self.raw: np.ndarray = data["vectors"]
        self.mean = self.raw.mean(axis=0)
        centred = self.raw - self.mean
        self.centred: np.ndarray = centred / np.linalg.norm(centred, axis=1, keepdims=True)
        self.index = {w: i for i, w in enumerate(self.words)}

    def nearest(
        self, vector: np.ndarray, have: set[str], k: int, analyser: KeywordAnalyser, centred: bool = True
    ) -> list[str]:
        """The ``k`` words nearest ``vector`` whose analysed form is not in ``have`` (which grows)."""
        table = self.centred if centred else self.raw
        scores = table @ vector
        top = np.argpartition(-scores, k * 6)[: k * 6]
        found: list[str] = []
        for i in top[np.argsort(-scores[top])]:
            stem = analyser.text(self.words[i])
            if stem in have:
                continue
            have.add(stem)
            found.append(self.words[i])
            if len(found) == k:
                break
        return found


# --- candidate pools --------------------------------------------------------------------------------


class JoiningRetriever(Retriever):
    """A retriever whose pool also takes the keyword hits of the query's ``k`` nearest vocabulary words
    (query expansion whose hits join the candidates), each candidate's expansion BM25 in ``expansion``."""

    def __init__(self, runtime: Runtime, table: Table, k: int, index_mean: np.ndarray) -> None:
        super().__init__(runtime.store, runtime.embedder, SystemClock(), **WHOLE_POOL_SIGNALS)
        self.table, self.k, self.index_mean = table, k, index_mean
        self.analyser = KeywordAnalyser()
        self.expansion: dict[str, float] = {}

    def _candidates(
        self, scope: Scope, flt: Any, request: SearchRequest, pool_size: int
    ) -> tuple[dict[str, _Candidate], Any]:
        found, vector = super()._candidates(scope, flt, request, pool_size)
        centred = vector - self.index_mean
        have = set(self.analyser.text(request.query).split())
        words = self.table.nearest(centred / np.linalg.norm(centred), have, self.k, self.analyser)
        hits = self._store.keyword_search(scope, flt, " ".join(words), pool_size)
        self.expansion = {h.chunk_id: h.score for h in hits}
        held = {c.memory_id for c in found.values()}
        new = [h for h in hits if h.memory_id not in held]
        stored = self._store.chunk_vectors(self._embedder.model_id, [h.chunk_id for h in new])
        for hit in new:
            other = stored.get(hit.chunk_id)
            cosine = float(other @ vector) if other is not None else 0.0
            found[hit.chunk_id] = _Candidate(hit.chunk_id, hit.memory_id, cosine, 0.0, vector=other)
            held.add(hit.memory_id)
        return found, vector


def gather(store: Path, out: Path, data: Path, quick: bool, join: tuple[Table, int] | None = None) -> None:
    runtime = Runtime.open(embedded_settings(store))
    try:
        retriever = (
            JoiningRetriever(runtime, join[0], join[1], _store_vectors(store / "memhub.db").mean(axis=0))
            if join
            else None
        )
        rows: list[Row] = []
        pools = question_pools(
            runtime, data, None, (1, 2, 3, 4, 5), SearchMode.HYBRID, LIMIT, quick=quick, retriever=retriever
        )
        for position, conv, question, scope, candidates, memories in pools:
            if rows and rows[-1]["conv"] != position:
                print(f"conversation {rows[-1]['conv']}: {len(rows)} questions", flush=True)
            keys = runtime.store.sparse_keys(scope.tenant_id, list(candidates))
            speakers = {
                str(m.metadata[SPEAKER_KEY]) for m in memories.values() if m.metadata.get(SPEAKER_KEY)
            }
            cands = []
            for chunk_id, cand in candidates.items():
                memory = memories.get(cand.memory_id)
                if memory is None:
                    continue
                cands.append(
                    {
                        "cid": chunk_id,
                        "f": [cand.features.get(n, 0.0) for n in FEATURES],
                        "src": [s.public_id for s in memory.sources],
                        "text": memory.text,
                        "key": keys.get(chunk_id, ""),
                        "qx": getattr(retriever, "expansion", {}).get(chunk_id, 0.0),
                    }
                )
            rows.append(
                {
                    "conv": position,
                    "user": conv.sample_id,
                    "cat": question.category,
                    "q": question.question,
                    "named": sorted(names_in(question.question, speakers)),
                    "ev": list(question.evidence),
                    "cands": cands,
                }
            )
        if rows:
            print(f"conversation {rows[-1]['conv']}: {len(rows)} questions", flush=True)
    finally:
        runtime.close()
    out.write_bytes(pickle.dumps(rows))


def _store_vectors(db: Path) -> np.ndarray:
    with sqlite3.connect(db) as conn:
        return np.stack(
            [np.frombuffer(b, dtype=np.float32) for (b,) in conn.execute("SELECT vector FROM vectors")]
        )


def query_expansion(store: Path, table: Table, rows: list[Row], out: Path) -> None:
    """Per question: its expansion words and, for each k of QUERY_KS, chunk id -> BM25 of the first k."""
    analyser = KeywordAnalyser()
    index_mean = _store_vectors(store / "memhub.db").mean(axis=0)
    runtime = Runtime.open(embedded_settings(store))
    try:
        tenant = runtime.store.find_tenant("default")
        assert tenant is not None
        space = runtime.service.resolve_space(tenant.id, None).id
        embedder = runtime.embedder
        names = sorted({n for r in rows for n in r["named"]})
        name_vectors = dict(zip(names, embedder.embed(names), strict=True))
        result = []
        started = time.process_time()
        for row in rows:
            vector = embedder.embed([row["q"]])[0]
            for name in row["named"]:
                vector = vector - float(vector @ name_vectors[name]) * name_vectors[name]
            vector = vector - index_mean
            vector = vector / np.linalg.norm(vector)
            have = set(analyser.text(row["q"]).split())
            words = table.nearest(vector, have, max(QUERY_KS), analyser)
            scope = Scope(tenant_id=tenant.id, space_ids=[space], user_id=row["user"])
            found: dict[Any, Any] = {"words": words}
            for k in QUERY_KS:
                hits = runtime.store.keyword_search(scope, None, " ".join(words[:k]), 100)
                found[k] = {h.chunk_id: h.score for h in hits}
            result.append(found)
        print(f"{len(rows)} questions in {time.process_time() - started:.0f} s CPU")
    finally:
        runtime.close()
    out.write_bytes(pickle.dumps(result))


def expand(
    store: Path, table: Table, k: int, out: Path, raw: bool, names: bool, from_words: bool = False
) -> None:
    """A copy of ``store`` whose chunks' keyword keys gain ``k`` words near their dense vectors (or,
    ``from_words``, near the mean of their text's word vectors)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(store, out)
    analyser = KeywordAnalyser()
    db = out / "memhub.db"
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT c.rid, c.sparse_key, c.dense_key, v.vector, c.text FROM chunks c"
        " JOIN chunk_vectors cv ON cv.chunk_rid = c.rid"
        " JOIN vectors v ON v.model_id = cv.model_id AND v.hash = cv.vector_hash"
    ).fetchall()
    if from_words:
        vectors = _word_means(table, [r[4] for r in rows])
    else:
        vectors = _dense_vectors(conn, rows, raw, names)
    started = time.process_time()
    updates = []
    for (rid, key, *_), vector in zip(rows, vectors, strict=True):
        have = set(analyser.text(key).split())
        extra = table.nearest(vector, have, k, analyser, centred=not raw) if vector.any() else []
        new = f"{key}\n{' '.join(extra)}"
        updates.append((new, analyser.text(new), rid))
    per_chunk = 1000 * (time.process_time() - started) / len(rows)
    conn.executemany("UPDATE chunks SET sparse_key = ?, keyword_text = ? WHERE rid = ?", updates)
    conn.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')")
    conn.execute(
        "UPDATE keyword_totals SET length = (SELECT sum(length(sparse_key)) FROM chunks"
        " WHERE substr(scope_key, 1, 21) = keyword_totals.tenant_key)"
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(
        f"{len(rows)} keys expanded by {k} words, {per_chunk:.2f} ms CPU per chunk;"
        f" e.g. {updates[0][0][-120:]!r}"
    )


def _dense_vectors(conn: sqlite3.Connection, rows: list[Any], raw: bool, names: bool) -> np.ndarray:
    """The chunks' stored vectors; ``names``: less the speakers' name directions; centred unless ``raw``."""
    vectors = np.stack([np.frombuffer(r[3], dtype=np.float32) for r in rows])
    if names:
        vectors = _without_names(conn, rows, vectors)
    if not raw:
        vectors = vectors - vectors.mean(axis=0)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _word_means(table: Table, texts: list[str]) -> np.ndarray:
    """Per text, the normalised mean of its content words' centred vectors (zeros: no word known)."""
    out = np.zeros((len(texts), table.centred.shape[1]), dtype=np.float32)
    for j, text in enumerate(texts):
        ids = sorted({table.index[w] for w in terms(text) if w not in STOP_WORDS and w in table.index})
        if ids:
            mean = table.centred[ids].mean(axis=0)
            out[j] = mean / np.linalg.norm(mean)
    return out


def _without_names(conn: sqlite3.Connection, rows: list[Any], vectors: np.ndarray) -> np.ndarray:
    metadata = [json.loads(m) for (m,) in conn.execute("SELECT metadata FROM memories") if m]
    speakers = sorted({str(m[SPEAKER_KEY]) for m in metadata if m.get(SPEAKER_KEY)})
    name_vectors = dict(zip(speakers, LocalEmbedder(threads=1).embed(speakers), strict=True))
    out = vectors.copy()
    for j, row in enumerate(rows):
        for name in sorted(names_in(row[2], speakers)):
            out[j] = out[j] - float(out[j] @ name_vectors[name]) * name_vectors[name]
        out[j] = out[j] / np.linalg.norm(out[j])
    return out


# --- the variants -----------------------------------------------------------------------------------


def shared_ranks(values: Sequence[float | None]) -> np.ndarray:
    """``1 / (1 + rank)`` by value, equal values sharing a rank, None ranked nowhere (0)."""
    order = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: -values[i])  # type: ignore[operator]
    out = np.zeros(len(values))
    last: float | None = None
    held = 0
    for position, i in enumerate(order):
        held = held if values[i] == last else position
        out[i] = 1.0 / (1 + held)
        last = values[i]
    return out


class Soft:
    """The soft term match of every candidate of a question, for one variant."""

    def __init__(self, table: Table, centred: bool) -> None:
        self.table = table
        self.vectors = table.centred if centred else table.raw
        self.centred = centred
        self.memo: dict[str, list[int]] = {}
        self.oov: dict[str, np.ndarray] = {}
        self.embedder = LocalEmbedder(threads=1)

    def word(self, word: str) -> np.ndarray:
        i = self.table.index.get(word)
        if i is not None:
            return self.vectors[i]
        if word not in self.oov:
            vector = self.embedder.embed([word])[0]
            if self.centred:
                vector = vector - self.table.mean
                vector = vector / np.linalg.norm(vector)
            self.oov[word] = vector
        return self.oov[word]

    def ids(self, text: str) -> list[int]:
        found = self.memo.get(text)
        if found is None:
            index = self.table.index
            found = self.memo[text] = sorted(
                {index[w] for w in terms(text) if w not in STOP_WORDS and w in index}
            )
        return found

    def __call__(
        self, row: Row, field: str = "text", clip: float | None = None, agg: str = "mean"
    ) -> np.ndarray:
        words = content_words(row["q"], row["named"])
        out = np.zeros(len(row["cands"]))
        if not words:
            return out
        query = np.stack([self.word(w) for w in words])
        for j, cand in enumerate(row["cands"]):
            ids = self.ids(cand[field])
            if not ids:
                continue
            sims = query @ self.vectors[ids].T
            if agg == "rev":
                out[j] = float(sims.max(axis=0).mean())
                continue
            best = sims.max(axis=1)
            if clip is not None:
                best = np.clip((best - clip) / (1 - clip), 0.0, 1.0)
            out[j] = float(best.max() if agg == "max" else best.mean())
        return out


def labels(row: Row) -> np.ndarray:
    evidence = set(row["ev"])
    return np.array([1.0 if evidence & set(c["src"]) else 0.0 for c in row["cands"]])


def measure(scored: list[tuple[Row, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Rall@10, R@5 per split (all / tune / held) and group (cats 1-4, each category)."""
    groups = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
    acc: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row, scores in scored:
        order = np.argsort(-scores, kind="stable")
        evidence = set(row["ev"])
        top10: set[str] = set()
        top5: set[str] = set()
        for rank, i in enumerate(order[:10]):
            top10 |= set(row["cands"][i]["src"]) & evidence
            if rank < 5:
                top5 |= set(row["cands"][i]["src"]) & evidence
        value = (1.0 if top10 == evidence else 0.0, len(top5) / len(evidence))
        split = "tune" if row["conv"] < 5 else "held"
        names = [groups[row["cat"]]] + (["cats 1-4"] if row["cat"] != 5 else [])
        for s in ("all", split):
            for g in names:
                acc.setdefault((s, g), []).append(value)
    out: dict[str, dict[str, float]] = {}
    for (s, g), values in acc.items():
        mean = np.mean(values, axis=0) * 100
        out.setdefault(s, {})[f"{g} Rall@10"] = round(float(mean[0]), 1)
        if g == "cats 1-4":
            out[s]["cats 1-4 R@5"] = round(float(mean[1]), 1)
    return out


Extra = Callable[[int, Row], dict[str, np.ndarray]]


def run(label: str, rows: list[Row], extra: Extra | None = None) -> dict[str, Any]:
    started = time.time()
    names = list(FEATURES)
    data = []
    for i, row in enumerate(rows):
        x = np.array([c["f"] for c in row["cands"]], dtype=float).reshape(len(row["cands"]), len(FEATURES))
        if extra is not None:
            columns = extra(i, row)
            if not data:
                names += list(columns)
            x = np.column_stack([x, *columns.values()]) if len(x) else np.zeros((0, len(names)))
        data.append((row, x))
    groups = [(x, labels(r)) for r, x in data if r["conv"] < 5 and r["cat"] != 5 and len(x)]
    fit = fit_ranking(groups, names, {"speaker": 0.8})
    weights = np.array([fit.weights[n] for n in names])
    result = measure([(r, x @ weights) for r, x in data])
    held, tune = result.get("held", {}), result.get("tune", {})

    def both(name: str) -> str:
        return f"{tune.get(name, math.nan):.1f}/{held.get(name, math.nan):.1f}"

    print(
        f"{label:24s} Rall@10 tune/held {both('cats 1-4 Rall@10')} R@5 {both('cats 1-4 R@5')} | "
        + " ".join(
            f"{g[:4]} {both(g + ' Rall@10')}"
            for g in ("multi-hop", "temporal", "open-domain", "single-hop", "adversarial")
        )
        + f" ({time.time() - started:.0f} s)",
        flush=True,
    )
    return {"metrics": result, "weights": {n: round(fit.weights[n], 4) for n in names}}


def fit_all(
    rows: list[Row],
    table: Table,
    qexp: list[Any] | None,
    expanded: dict[str, Path],
    joined: dict[str, Path],
    out: Path,
) -> None:
    results: dict[str, Any] = {"base": run("base (refitted)", rows)}
    soft_raw, soft_c = Soft(table, centred=False), Soft(table, centred=True)
    variants: dict[str, Callable[[Row], dict[str, np.ndarray]]] = {
        "soft": lambda r: {"soft": soft_raw(r)},
        "soft_clip3": lambda r: {"soft_clip3": soft_raw(r, clip=0.3)},
        "soft_key": lambda r: {"soft_key": soft_raw(r, field="key")},
        "soft_c": lambda r: {"soft_c": soft_c(r)},
        "soft_c_clip3": lambda r: {"soft_c_clip3": soft_c(r, clip=0.3)},
        "soft_c_key": lambda r: {"soft_c_key": soft_c(r, field="key")},
        "soft_c_max": lambda r: {"soft_c_max": soft_c(r, agg="max")},
        "soft_c_rev": lambda r: {"soft_c_rev": soft_c(r, agg="rev")},
        "soft_c+key": lambda r: {"soft_c": soft_c(r), "soft_c_key": soft_c(r, field="key")},
    }
    for label, make in variants.items():
        started = time.process_time()
        columns = [make(r) for r in rows]
        cpu = 1000 * (time.process_time() - started) / sum(len(r["cands"]) for r in rows)
        results[label] = run(label, rows, lambda i, _r, c=columns: c[i])  # type: ignore[misc]
        results[label]["cpu_ms_per_candidate"] = round(cpu, 4)
    if qexp is not None:
        for k in QUERY_KS:
            for with_rank in (False, True):
                label = f"query-exp {k}" + (" +rank" if with_rank else "")
                results[label] = run(label, rows, _query_columns(qexp, k, with_rank))
        clip = [soft_c(r, clip=0.3) for r in rows]
        both = _query_columns(qexp, max(QUERY_KS), True)
        results["soft_c_clip3 + query-exp 10 +rank"] = run(
            "soft_c_clip3 + qx10 +rank", rows, lambda i, r: {"soft_c_clip3": clip[i], **both(i, r)}
        )
    for label, path in expanded.items():
        pools = pickle.loads(path.read_bytes())
        results[f"doc-exp {label}"] = run(f"doc-exp {label}", pools)
    for label, path in joined.items():
        pools = pickle.loads(path.read_bytes())
        results[f"query-exp {label} joined"] = run(f"query-exp {label} joined", pools, _joined_columns)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


def _joined_columns(_: int, row: Row) -> dict[str, np.ndarray]:
    """The expansion's BM25 (log) and rank, from a pool the expansion's hits joined."""
    values = [float(c["qx"]) for c in row["cands"]]
    return {"qx": np.log1p(values), "qx_rank": shared_ranks([v if v >= 0.5 else None for v in values])}


def _query_columns(qexp: list[Any], k: int, with_rank: bool) -> Extra:
    def columns(i: int, row: Row) -> dict[str, np.ndarray]:
        scores = qexp[i][k]
        values = [float(scores.get(c["cid"], 0.0)) for c in row["cands"]]
        out = {f"qx{k}": np.log1p(values)}
        if with_rank:
            out[f"qx{k}_rank"] = shared_ranks([v if v >= 0.5 else None for v in values])
        return out

    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("words", "gather", "query-exp", "expand", "fit"))
    parser.add_argument("--store", type=Path)
    parser.add_argument("--words", type=Path)
    parser.add_argument("--rows", type=Path)
    parser.add_argument("--qexp", type=Path)
    parser.add_argument("--expanded", action="append", default=[], metavar="LABEL=ROWS")
    parser.add_argument("--joined", action="append", default=[], metavar="LABEL=ROWS")
    parser.add_argument(
        "--join", type=int, help="gather: the keyword hits of K expansion words join the pool"
    )
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--raw", action="store_true", help="expand: vectors not centred")
    parser.add_argument("--names", action="store_true", help="expand: speakers' name directions removed")
    parser.add_argument("--from-words", action="store_true", help="expand: from the text's word vectors")
    parser.add_argument("--data", type=Path, default=LOCOMO)
    parser.add_argument(
        "--quick", action="store_true", help="gather: the slice of memhub bench locomo --quick"
    )
    parser.add_argument(
        "--max-words", type=int, help="words: the first N vocabulary words only (a smoke run)"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "words":
        build_words(args.out, args.max_words)
    elif args.step == "gather":
        join = (Table(args.words), args.join) if args.join else None
        gather(args.store, args.out, args.data, args.quick, join)
    elif args.step == "query-exp":
        query_expansion(args.store, Table(args.words), pickle.loads(args.rows.read_bytes()), args.out)
    elif args.step == "expand":
        expand(args.store, Table(args.words), args.k, args.out, args.raw, args.names, args.from_words)
    else:
        rows = pickle.loads(args.rows.read_bytes())
        qexp = pickle.loads(args.qexp.read_bytes()) if args.qexp else None
        expanded = {label: Path(p) for label, _, p in (e.partition("=") for e in args.expanded)}
        joined = {label: Path(p) for label, _, p in (e.partition("=") for e in args.joined)}
        fit_all(rows, Table(args.words), qexp, expanded, joined, args.out)


if __name__ == "__main__":
    main()
