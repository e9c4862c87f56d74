"""Replica: WordNet hypernym expansion of the keyword key, measured without re-indexing (issue 21).

    python bench/hypernym_replica.py --store /tmp/store-copy --variants base,n2all:0.4 --out /tmp/h.json

The store is a copy of a ``memhub bench locomo --store`` index. The store's keyword search is replaced
(in this process only) by a Python BM25 over the same chunks with the same statistics as the SQLite store
(``storage/sqlite/keyword.py``: tenant-wide df, k1 1.2, b 0.75, length = the sparse key's characters),
plus, for a variant, a second BM25 field holding the hypernyms of the key's nouns/verbs, weighted ``w``.
For each variant the hybrid weights are refitted on conversations 0-4 (``fit_relevance.rows``, speaker
fixed at 0.8) and the bench's questions are run over the index (as
``memhub bench locomo --store`` does over a built index).
WordNet: Debian's ``wordnet-base`` (Princeton WordNet 3.0) read from /usr/share/wordnet. Experiment only.
Variant spec: ``base`` or ``<n|nv><depth><first|all>[c]:<weight>`` (e.g. ``nv2first:0.3``; ``c``: expand
the turn only, not its keyword window), or ``q...`` for question-side expansion (the query's nouns ->
their hyponyms to depth, weighted).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
from collections import Counter
from pathlib import Path

import fit_relevance
from common import LOCOMO

from memhub.benchmarks import locomo
from memhub.benchmarks.calibration import fit_ranking
from memhub.benchmarks.memhub_backend import MemhubBackend
from memhub.core import relevance, retrieval
from memhub.core.models import SearchMode
from memhub.core.ports import ChunkHit
from memhub.core.ranking import STOP_WORDS
from memhub.core.relevance import RelevanceModel
from memhub.embedded.engine import embedded_settings
from memhub.runtime import Runtime
from memhub.storage.sql.analysis import KeywordAnalyser
from memhub.storage.sqlite.store import SqliteStore

WN = Path("/usr/share/wordnet")
K1, B = 1.2, 0.75
WORD = re.compile(r"[a-z]+")


class WordNet:
    """Just enough of WordNet 3.0: lemma -> synsets (sense order), synset -> lemmas, hypernyms, hyponyms."""

    def __init__(self, root: Path = WN) -> None:
        self.root = root
        self.index: dict[str, dict[str, list[str]]] = {}
        self.lemmas: dict[tuple[str, str], list[str]] = {}
        self.up: dict[tuple[str, str], list[str]] = {}
        self.down: dict[tuple[str, str], list[str]] = {}
        self.exc: dict[str, dict[str, list[str]]] = {}
        for pos, name in (("n", "noun"), ("v", "verb")):
            self._load(pos, name)

    def _load(self, pos: str, name: str) -> None:
        idx: dict[str, list[str]] = {}
        for line in (self.root / f"index.{name}").read_text().splitlines():
            if not line.startswith(" "):
                f = line.split()
                idx[f[0]] = f[6 + int(f[3]) :]
        self.index[pos] = idx
        for line in (self.root / f"data.{name}").read_text().splitlines():
            if not line.startswith(" "):
                self._synset(pos, line.split(" | ")[0].split())
        exc: dict[str, list[str]] = {}
        for line in (self.root / f"{name}.exc").read_text().splitlines():
            f = line.split()
            exc.setdefault(f[0], []).extend(f[1:])
        self.exc[pos] = exc

    def _synset(self, pos: str, f: list[str]) -> None:
        off, w_cnt = f[0], int(f[3], 16)
        i = 4 + 2 * w_cnt
        ups, downs = [], []
        for j in range(int(f[i])):
            sym, target, tpos = f[i + 1 + 4 * j], f[i + 2 + 4 * j], f[i + 3 + 4 * j]
            if tpos == pos and sym in ("@", "@i"):
                ups.append(target)
            elif tpos == pos and sym in ("~", "~i"):
                downs.append(target)
        self.lemmas[(pos, off)] = [f[4 + 2 * k].lower() for k in range(w_cnt)]
        self.up[(pos, off)] = ups
        self.down[(pos, off)] = downs

    RULES = {
        "n": [
            ("s", ""),
            ("ses", "s"),
            ("xes", "x"),
            ("zes", "z"),
            ("ches", "ch"),
            ("shes", "sh"),
            ("men", "man"),
            ("ies", "y"),
        ],
        "v": [
            ("s", ""),
            ("ies", "y"),
            ("es", "e"),
            ("es", ""),
            ("ed", "e"),
            ("ed", ""),
            ("ing", "e"),
            ("ing", ""),
        ],
    }

    def morphy(self, word: str, pos: str) -> list[str]:
        idx = self.index[pos]
        found = [w for w in self.exc[pos].get(word, []) if w in idx]
        if word in idx:
            found.append(word)
        if not found:
            for old, new in self.RULES[pos]:
                if word.endswith(old) and len(word) > len(old):
                    base = word[: len(word) - len(old)] + new
                    if base in idx:
                        found.append(base)
                        break
        return found

    def expand(self, word: str, pos: str, depth: int, senses: str, down: bool = False) -> set[str]:
        out: set[str] = set()
        links = self.down if down else self.up
        for lemma in self.morphy(word, pos):
            synsets = self.index[pos][lemma]
            if senses == "first":
                synsets = synsets[:1]
            frontier = list(synsets)
            for _ in range(depth):
                nxt = []
                for off in frontier:
                    for target in links[(pos, off)]:
                        out.update(self.lemmas[(pos, target)])
                        nxt.append(target)
                frontier = nxt
        return out


class Variant:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.base = spec == "base"
        if self.base:
            return
        body, _, weight = spec.partition(":")
        self.weight = float(weight or 0.4)
        self.query_side = body.startswith("q")
        body = body.lstrip("q")
        m = re.fullmatch(r"(nv|n)(\d)(first|all)(c?)", body)
        assert m, spec
        self.pos = ["n", "v"] if m.group(1) == "nv" else ["n"]
        self.depth = int(m.group(2))
        self.senses = m.group(3)
        self.centre = bool(m.group(4))  # expand the chunk's own text only, not its keyword window


class Index:
    """The store's chunks in memory: analysed keyword text, length, scope, and expansion fields."""

    def __init__(self, db: Path, analyser: KeywordAnalyser, wordnet: WordNet) -> None:
        self.analyser, self.wn = analyser, wordnet
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = conn.execute(
            "SELECT c.id, m.id, m.user_id, c.keyword_text, length(c.sparse_key), c.sparse_key, c.text"
            " FROM chunks c JOIN memories m ON m.rid = c.memory_rid WHERE m.superseded_by IS NULL"
        ).fetchall()
        conn.close()
        self.chunks = [(r[0], r[1], r[2]) for r in rows]
        self.tf = [Counter(r[3].split()) for r in rows]
        self.length = [r[4] for r in rows]
        self.raw = [r[5] for r in rows]
        self.own = [r[6] for r in rows]
        self.mean = sum(self.length) / len(rows)
        self.df = Counter(t for tf in self.tf for t in tf)
        self.by_user: dict[str, list[int]] = {}
        for i, (_, _, user) in enumerate(self.chunks):
            self.by_user.setdefault(user, []).append(i)
        self._cache: dict[tuple, set[str]] = {}
        self.exp_tf: list[Counter[str]] = []
        self.variant = Variant("base")

    def _word_exp(self, word: str, v: Variant, down: bool = False) -> set[str]:
        key = (word, tuple(v.pos), v.depth, v.senses, down)
        if key not in self._cache:
            terms: set[str] = set()
            for pos in v.pos:
                for lemma in self.wn.expand(word, pos, v.depth, v.senses, down):
                    for part in lemma.split("_"):
                        if part in STOP_WORDS or len(part) < 3:
                            continue
                        terms.update(self.analyser.text(part).split())
            self._cache[key] = terms
        return self._cache[key]

    def set_variant(self, v: Variant) -> None:
        self.variant = v
        self.exp_tf = []
        if v.base or v.query_side:
            return
        for raw in self.own if v.centre else self.raw:
            tf: Counter[str] = Counter()
            for word in WORD.findall(raw.lower()):
                if word in STOP_WORDS or len(word) < 3:
                    continue
                own = set(self.analyser.text(word).split())
                tf.update(self._word_exp(word, v) - own)
            self.exp_tf.append(tf)
        self.exp_len = [sum(tf.values()) for tf in self.exp_tf]
        self.exp_mean = sum(self.exp_len) / len(self.exp_len) or 1.0
        self.exp_df = Counter(t for tf in self.exp_tf for t in tf)

    def idf(self, df: int) -> float:
        n = len(self.chunks)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def expansion_scores(self, text: str, chunk_ids: list[str]) -> dict[str, float]:
        """BM25 of the expansion field alone (weight 1) for these chunks."""
        v = self.variant
        if v.base or v.query_side:
            return {}
        if not hasattr(self, "pos_of"):
            self.pos_of = {c[0]: i for i, c in enumerate(self.chunks)}
        terms = [t for t in self.analyser.terms(text) if " " not in t]
        exp = {t: self.idf(self.exp_df[t]) for t in terms if self.exp_df.get(t)}
        out = {}
        for chunk_id in chunk_ids:
            i = self.pos_of.get(chunk_id)
            if i is None:
                continue
            etf = self.exp_tf[i]
            enorm = K1 * (1 - B + B * self.exp_len[i] / self.exp_mean)
            s = sum(idf * etf[t] * (K1 + 1) / (etf[t] + enorm) for t, idf in exp.items() if etf.get(t))
            if s:
                out[chunk_id] = s
        return out

    @staticmethod
    def _bm25(weights: dict[str, float], tf: Counter[str], relative_length: float) -> float:
        norm = K1 * (1 - B + B * relative_length)
        return sum(idf * tf[t] * (K1 + 1) / (tf[t] + norm) for t, idf in weights.items() if tf.get(t))

    def search(self, user: str | None, text: str, limit: int) -> list[ChunkHit]:
        terms = [t for t in self.analyser.terms(text) if " " not in t]
        v = self.variant
        q = dict.fromkeys(terms, 1.0)
        if not v.base and v.query_side:
            for word in set(WORD.findall(text.lower())) - STOP_WORDS:
                for t in self._word_exp(word, v, down=True):
                    q.setdefault(t, v.weight)
        main = {t: w * self.idf(self.df[t]) for t, w in q.items() if self.df.get(t)}
        exp = {}
        if not v.base and not v.query_side and not STATE["feature"]:
            exp = {t: v.weight * self.idf(self.exp_df[t]) for t in terms if self.exp_df.get(t)}
        if not main and not exp:
            return []
        scored = []
        for i in self.by_user.get(user or "", range(len(self.chunks))):
            score = self._bm25(main, self.tf[i], self.length[i] / self.mean)
            if exp:
                score += self._bm25(exp, self.exp_tf[i], self.exp_len[i] / self.exp_mean)
            if score > 0:
                scored.append((score, i))
        scored.sort(key=lambda x: (-x[0], self.chunks[x[1]][0]))
        return [
            ChunkHit(chunk_id=self.chunks[i][0], memory_id=self.chunks[i][1], score=s)
            for s, i in scored[:limit]
        ]


STATE: dict = {"index": None, "feature": False}  # feature: the expansion as its own feature ("hyper")
QUERY: list[str] = [""]  # the query of the search running (the bench searches one at a time)


def _patched(self, scope, flt, text, limit):  # type: ignore[no-untyped-def]
    QUERY[0] = text
    return STATE["index"].search(scope.user_id, text, limit)


_ORIGINAL_POOL_FEATURES = retrieval._pool_features


def _pool_features_with_hyper(candidates):  # type: ignore[no-untyped-def]
    _ORIGINAL_POOL_FEATURES(candidates)
    scores = STATE["index"].expansion_scores(QUERY[0], list(candidates))
    for chunk_id, cand in candidates.items():
        cand.features["hyper"] = math.log1p(scores.get(chunk_id, 0.0))


def refit(store: Path, data: Path) -> RelevanceModel:

    runtime = Runtime.open(embedded_settings(store))
    try:
        groups = fit_relevance.rows(runtime, data, list(range(5)), SearchMode.HYBRID, 20)
    finally:
        runtime.close()
    names = list(relevance.FEATURES)
    fit = fit_ranking(groups, names, {"speaker": 0.8})
    return RelevanceModel(intercept=fit.intercept, weights={n: w for n, w in fit.weights.items() if w})


class Reuse(MemhubBackend):
    def ingest(self, conv, advance):  # type: ignore[no-untyped-def]
        advance(conv.turn_count())


CATS = ("cats 1-4", "multi-hop", "temporal", "open-domain", "single-hop", "adversarial")


def bench(store: Path, data: Path, modes: list[str]) -> dict:
    opts = locomo.Options(data=data, store=store, modes=modes)
    locomo.make_backend = lambda system, options: Reuse(options.store, options.modes)
    res = locomo.execute(opts)
    out = {}
    for label, s in res["systems"].items():
        sp = s["splits"]
        out[label] = {
            split: {c: round(100 * sp[split][c]["Rall@10"], 1) for c in CATS if c in sp[split]}
            | {
                "R@10": round(100 * sp[split]["cats 1-4"]["R@10"], 1),
                "R@5": round(100 * sp[split]["cats 1-4"]["R@5"], 1),
            }
            for split in ("conv 0-4", "conv 5-9")
        } | {"p50": s["latency_ms"]["p50"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=LOCOMO, help="LoCoMo's locomo10.json")
    parser.add_argument("--wordnet", type=Path, default=WN, help="WordNet 3.0 dict folder (wordnet-base)")
    parser.add_argument("--variants", default="base")
    parser.add_argument("--modes", default="hybrid,keyword")
    parser.add_argument("--no-refit", action="store_true")
    parser.add_argument("--real", action="store_true", help="the store's own keyword search (no replica)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--feature", action="store_true", help="expansion BM25 as its own feature")
    args = parser.parse_args()
    if args.feature:
        STATE["feature"] = True
        relevance.FEATURES = (*relevance.FEATURES, "hyper")
        retrieval._pool_features = _pool_features_with_hyper
    analyser = KeywordAnalyser("english")
    index = STATE["index"] = Index(args.store / "memhub.db", analyser, WordNet(args.wordnet))
    if not args.real:
        SqliteStore.keyword_search = _patched  # type: ignore[method-assign]
    shipped = relevance.DEFAULT_MODELS[SearchMode.HYBRID]
    results = {}
    for spec in args.variants.split(","):
        index.set_variant(Variant(spec))
        model = shipped if args.no_refit else refit(args.store, args.data)
        relevance.DEFAULT_MODELS[SearchMode.HYBRID] = model
        retrieval.DEFAULT_MODELS[SearchMode.HYBRID] = model
        res = bench(args.store, args.data, args.modes.split(","))
        results[spec] = {"weights": dict(model.weights), "runs": res}
        for label, r in res.items():
            t, h = r["conv 0-4"], r["conv 5-9"]
            print(
                f"{spec:16s} {label:8s} Rall10 t {t['cats 1-4']} h {t and h['cats 1-4']} | "
                + " ".join(f"{c[:5]} {t.get(c)}/{h.get(c)}" for c in CATS[1:])
                + f" | R10 h {h['R@10']} R5 h {h['R@5']} p50 {r['p50']:.1f}",
                flush=True,
            )
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
