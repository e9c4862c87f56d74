"""The best-ranked FTS5 rows of a keyword query, computed inside the FTS index alone (no joins).

Why: ranking every matching row is what a keyword search costs, and doing it in the statement that
joins ``chunks`` and ``memories`` for the scope condition ran the join for every match before the sort
(twice the cost of ranking inside FTS5 alone). So rows are ranked here and only the best few are joined
(``keyword.py``).

**Common words.** Even ranked alone, a word found in a tenth of the chunks makes each of them a
candidate, yet BM25 gives such a word little weight. When a query mixes such words with rarer ones (a
word is common in more than :func:`common_df` rows), the candidates are the rows holding a rarer word,
and each is still scored with *every* query word: FTS5's ``bm25()`` sums one term per phrase of the
expression, so ``(rare) AND (rare OR common)`` scores ``2·rare + common`` and subtracting the score of
``rare`` alone leaves the full query's score (equal to ~1e-13). The only rows this can miss hold common
words only; they take part again whenever the candidates in scope cannot fill the page (the caller
then ranks every match). On the measured queries the top 10 stayed the very same, in the same order,
at a third of the latency (docs/decisions/sqlite-keyword-rank.md). Under :data:`MIN_COMMON_DF`
rows per word nothing is pruned: ranking every match is cheap there, and small stores keep the plain
plan.

These two statements match words only, not the scope token (``fts.py``): BM25 computes a statistic over
every phrase's full posting list, and the tenant's token is in every chunk of the tenant (7 ms per
statement at 100k chunks). The candidates are few (bounded by the rare words' frequencies), the caller
checks the scope in SQL, and a tenant that is a small part of the file falls back as above.

Document frequencies are counted with ``LIMIT`` (stopping past the threshold), over the whole file like
BM25's own statistics, so telling a common word costs at most ``common_df`` rows of its posting list.
"""

from __future__ import annotations

import sqlite3

from memhub.core.models import Scope

from .fts import any_of, scoped_match

Ranked = list[tuple[int, float]]
"""(chunk rid, FTS5 bm25 rank: lower is better), best first, ties by rid."""

COMMON_FRACTION = 0.002
"""A word in more than this share of the file's chunks is common (when rarer words are in the query)."""

MIN_COMMON_DF = 1000
"""...and in more than this many chunks: below it, ranking every match costs little."""

RAISES = 2
"""Times the threshold is raised (4× each) when every word of a query is above it."""

_TOP = (
    "SELECT rowid, bm25(chunks_fts, 1.0, 0.0) AS rank FROM chunks_fts"
    " WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?"
)
_ALL = "SELECT rowid, bm25(chunks_fts, 1.0, 0.0) FROM chunks_fts WHERE chunks_fts MATCH ?"


def top_rows(conn: sqlite3.Connection, scope: Scope, terms: list[str], depth: int) -> tuple[Ranked, bool]:
    """Up to ``depth`` best rows matching ``terms`` within ``scope``'s FTS scope token, and whether they
    are *all* the matching rows (if not, and too few survive the caller's scope condition, the caller
    must rank every match itself)."""
    split = split_common(conn, terms) if scope.user_id is None and scope.session_id is None else None
    if split is None:
        rows = conn.execute(_TOP, (_scoped(any_of(terms), scope), depth + 1)).fetchall()
        return rows[:depth], len(rows) <= depth
    rare, common = split
    partial = dict(conn.execute(_ALL, (_words(any_of(rare)),)).fetchall())
    both = f"({any_of(rare)}) AND ({any_of(rare + common)})"
    ranked = [(rid, rank - partial[rid]) for rid, rank in conn.execute(_ALL, (_words(both),))]
    ranked.sort(key=lambda row: (row[1], row[0]))
    return ranked[:depth], False


def split_common(conn: sqlite3.Connection, terms: list[str]) -> tuple[list[str], list[str]] | None:
    """``terms`` as (rarer, common), or None when pruning does not apply (all rare, or all common at
    every threshold). The threshold starts at :func:`common_df` and is raised :data:`RAISES` times by
    4× while every word is above it, so a query of fairly common words still leaves out the commonest."""
    if len(terms) < 2:
        return None
    threshold = common_df(conn)
    for _ in range(RAISES + 1):
        common = [term for term in terms if _df_above(conn, term, threshold)]
        if len(common) < len(terms):
            return ([term for term in terms if term not in common], common) if common else None
        threshold *= 4
    return None


def common_df(conn: sqlite3.Connection) -> int:
    """Rows a word must be in to count as common: ``max(rid)`` bounds the chunk count from above."""
    highest = conn.execute("SELECT max(rid) FROM chunks").fetchone()[0] or 0
    return max(MIN_COMMON_DF, int(COMMON_FRACTION * highest))


def _df_above(conn: sqlite3.Connection, term: str, threshold: int) -> bool:
    sql = "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)"
    found: int = conn.execute(sql, (f"sparse_key : ({any_of([term])})", threshold + 1)).fetchone()[0]
    return found > threshold


def _words(words: str) -> str:
    return f"sparse_key : ({words})"


def _scoped(words: str, scope: Scope) -> str:
    return scoped_match(words, scope.tenant_id, scope.space_ids, scope.user_id, scope.session_id)
