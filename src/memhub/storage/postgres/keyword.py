"""Keyword search on PostgreSQL: ``tsvector`` + GIN over chunks' ``sparse_key``, ranked by BM25.

Text is analysed in Python the same way for the index and for queries, by the analyser both stores
share (``sql/analysis.py``: folded — NFKD, combining marks dropped, lower case —, cut into tokens of
letters and digits, stemmed), and the result, tokens separated by spaces, parsed with the ``simple``
configuration (no stemming, no stop list), which gives back exactly those tokens, as SQLite's FTS5
does: "CAFE" finds "café" and "camped" finds "camping" on both stores, without the ``unaccent``
extension or a server-side dictionary. Doing it in Python, not in SQL, means a server without contrib
modules works too, and both stores hold the same terms.

The query side follows the word rule both stores share (``sql/words.py``): the text is cut into words,
very common words are dropped unless nothing else is left, at most ``MAX_TERMS`` distinct words are kept,
each analysed as the chunks were; the server parses each into lexemes exactly as it parsed the chunks,
and the lexemes are ORed, each quoted in the ``tsquery`` (no character of user text is read as syntax).

**Scores** are BM25 (k1 1.2, b 0.75, FTS5's defaults) with document frequencies, chunk count and mean
length kept exact by triggers (``keyword_terms.py``), over the searching tenant's chunks only (another
tenant's writes never move a score):
a "higher is better" number > 0 for every hit. The term frequency is read through ``ts_rank`` (see
:func:`_score`) and the length is the chunk's distinct-lexeme count, so figures differ a little from
SQLite's ``bm25()``, while the order follows the same rule: rare words weigh most.

**Bounded work.** The first version ranked, with ``ts_rank``, every chunk holding *any* query word; at
100k chunks a tenant-wide search ranked ~5–20k chunks for an ordinary sentence ("hey", "new", "great"…).
Now the lexemes are taken rarest first while the chunks holding them sum to at most
:data:`CANDIDATE_BUDGET`; only chunks holding one of those are ranked, and every query lexeme scores
them. A chunk holding none of the rare words can only score through common ones, whose weight BM25
makes small; if the rare words give fewer than ``limit`` hits in scope, up to :data:`CANDIDATE_CAP`
more chunks holding any word are ranked as well (the rare-word hits stay). A user's or a session's
search first ranks every chunk of the scope holding a word (found through the scope's index), and only
takes the rare-words path when that is more than the cap. Scope, filter and tenant conditions are in
every statement; the bounds only decide which matching chunks get ranked.

The budget and its measurements: docs/decisions/postgres-keyword-budget.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from ..sql.scope import scope_condition
from ..sql.words import rarest_first
from .db import Conn
from .dialect import POSTGRES
from .keyword_terms import TermStats, term_stats
from .scope import filter_condition

K1 = 1.2
B = 0.75
"""BM25's parameters, FTS5's defaults."""

CANDIDATE_BUDGET = 2000
"""Rare lexemes pick the candidates while the chunks holding them (summed, over the tenant) stay
within this many; the others only add to the scores of those candidates."""

CANDIDATE_CAP = 2000
"""When the rare lexemes find fewer hits than asked, at most this many more chunks in scope (holding any
query lexeme) are ranked."""


@dataclass(frozen=True)
class Plan:
    """How one query is run: every matched lexeme's weight, and which of them may pick candidates."""

    idf: dict[str, float]
    rare: list[str]
    common: list[str]


def plan(stats: TermStats, budget: int) -> Plan:
    """Rarest lexemes first, while the chunks holding them (summed) stay within ``budget``."""
    rare, common = rarest_first(stats.df, budget)
    idf = {term: _idf(stats.chunks, df) for term, df in stats.df.items()}
    return Plan(idf=idf, rare=rare, common=common)


def _idf(chunks: int, df: int) -> float:
    """BM25's inverse document frequency in the form that stays > 0 (Lucene's): ln(1 + (N-n+½)/(n+½))."""
    return math.log(1.0 + (max(chunks, df) - df + 0.5) / (df + 0.5))


def keyword_search(
    conn: Conn, scope: Scope, flt: Filter | None, words: list[str], limit: int
) -> list[ChunkHit]:
    """The best ``limit`` chunks in scope for ``words`` (a query's words as the store's analyser made
    them: :meth:`~memhub.storage.sql.analysis.KeywordAnalyser.terms`)."""
    if not words or limit <= 0:
        return []
    stats = term_stats(conn, scope.tenant_id, words)
    if not stats.df:
        return []
    query = plan(stats, CANDIDATE_BUDGET)
    rank = _Ranking(conn, scope, flt, query, stats.mean_length)
    narrow = scope.user_id is not None or scope.session_id is not None
    return [ChunkHit(chunk_id=h[0], memory_id=h[1], score=h[3]) for h in _search(rank, query, narrow, limit)]


Row = tuple[str, str, int, float]  # chunk id, memory id, chunk rid, score


def _search(rank: _Ranking, query: Plan, narrow: bool, limit: int) -> list[Row]:
    everything = query.rare + query.common
    if not query.common:  # few chunks hold any of the words: rank them all
        return rank.run(everything, None, limit)[0]
    capped: list[Row] = []
    if narrow:
        # A user's or a session's chunks are found through the scope's index, not the words': rank
        # every one holding a word, unless there are more than the cap.
        capped, seen = rank.run(everything, CANDIDATE_CAP, limit)
        if seen < CANDIDATE_CAP:
            return capped
    hits = rank.run(query.rare, None, limit)[0] if query.rare else []
    if len(hits) < limit and not capped:
        # Too few chunks in scope hold a rare word: look further, among a bounded set of chunks
        # holding any word. The rare-word hits are kept, whatever the cap lets through.
        capped = rank.run(everything, CANDIDATE_CAP, limit)[0]
    return _merge(hits, capped, limit)


def _merge(first: list[Row], second: list[Row], limit: int) -> list[Row]:
    seen = {row[0] for row in first}
    rows = first + [row for row in second if row[0] not in seen]
    return sorted(rows, key=lambda row: (-row[3], row[2]))[:limit]


class _Ranking:
    """BM25 over the chunks in scope matching some lexemes, optionally only the first ``cap`` of them."""

    def __init__(self, conn: Conn, scope: Scope, flt: Filter | None, query: Plan, mean_length: float):
        self.conn = conn
        self.where, self.params = scope_condition(POSTGRES, scope)
        self.where += filter_condition(flt, self.params)
        self.score, self.score_params = _score(query.idf, mean_length)

    def run(self, lexemes: list[str], cap: int | None, limit: int) -> tuple[list[Row], int]:
        """The best ``limit`` hits, and how many chunks were ranked (at most ``cap``)."""
        statement = (
            f"SELECT x.chunk_id, x.memory_id, x.rid, {self.score} AS score, count(*) OVER () AS seen FROM ("
            " SELECT c.rid, c.id AS chunk_id, m.id AS memory_id, c.tsv"
            " FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
            f" WHERE c.tsv @@ %s::tsquery AND {self.where}{' LIMIT %s' if cap else ''}) AS x"
            " ORDER BY score DESC, x.rid LIMIT %s"
        )
        params = [*self.score_params, _tsquery(lexemes), *self.params, *([cap] if cap else []), limit]
        rows = self.conn.execute(statement, params).fetchall()
        hits = [(r["chunk_id"], r["memory_id"], int(r["rid"]), float(r["score"])) for r in rows]
        return hits, int(rows[0]["seen"]) if rows else 0


_TF_ONE = 0.1 / 1.64493406685
"""``ts_rank(tsv, 'word', 0)`` of a chunk holding the word once (weight D = 0.1, scaled by π²/6)."""


def _score(idf: dict[str, float], mean_length: float) -> tuple[str, list[object]]:
    """BM25 of chunk ``x`` as one SQL expression (and its parameters), a term per query lexeme.

    Per lexeme: ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length))``. The term
    frequency is read through ``ts_rank`` on that lexeme alone, divided by its value for one occurrence:
    1, 1.25, 1.36, … → 1.64 for 1, 2, 3, … occurrences (Σ 1/j²), a count that saturates a little faster
    than BM25's own. Everything stays in C (``@@`` and ``ts_rank`` on the chunk's ``tsvector``):
    unnesting the vector per chunk to count positions made ranking 3–4× slower (measured).
    """
    parts: list[str] = []
    params: list[object] = []
    length = "(%s + %s * length(x.tsv))"
    for term, weight in idf.items():
        lexeme = _tsquery([term])
        # w * tf / (tf + n) written as w / (1 + n / tf): one ts_rank call, and only where it matches.
        rank = "ts_rank(x.tsv, %s::tsquery, 0)"
        parts.append(f"CASE WHEN x.tsv @@ %s::tsquery THEN %s / (1 + {length} / {rank}) ELSE 0 END")
        norm = [_TF_ONE * K1 * (1 - B), _TF_ONE * K1 * B / mean_length]
        params += [lexeme, weight * (K1 + 1), *norm, lexeme]
    return "(" + " + ".join(parts) + ")", params


def _tsquery(lexemes: list[str]) -> str:
    """An OR of ``lexemes`` in ``tsquery`` input syntax, each quoted: no lexeme is ever read as an
    operator, and ``::tsquery`` takes quoted lexemes as they are (no parser, no normalisation)."""
    return " | ".join("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)
