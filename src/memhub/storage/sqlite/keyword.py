"""Keyword search on SQLite: FTS5 finds the chunks in scope holding a query word; BM25 computed with the
searching tenant's own statistics ranks them.

**Why not FTS5's ``bm25()``.** Its statistics (document frequencies, chunk count, mean length) are those
of the whole index, every tenant's chunks: another tenant's writes moved a tenant's scores, and with
them the order of its hits, so one query per word told a tenant whether anyone held a rare word, and
roughly how often (issue 20). So FTS5 only *matches* here — the words ANDed with the narrowest scope
token (``fts.py``), never ranked — and the score is BM25 (k1 1.2, b 0.75, FTS5's defaults, Lucene's
always-positive idf) over the tenant alone:

- a word's document frequency is counted in the index among the tenant's chunks (words AND the tenant's
  scope token, one ``count(*)`` per query word);
- the tenant's chunk count and total length come from ``keyword_totals``, kept by triggers on
  ``chunks`` keyed by the tenant's scope token (a chunk's length is its ``sparse_key``'s characters);
- a candidate's term frequencies are counted in Python on its ``keyword_text``, the text FTS5 indexed
  (``sparse_key`` folded, cut into tokens and stemmed by ``sql/analysis.py``, which also analyses the
  query's words), so a word is counted exactly where FTS5 matches it.

**Bounded work**, as on PostgreSQL (``postgres/keyword.py``): the query's words are taken rarest first
(in the tenant) while the chunks holding them sum to at most :data:`CANDIDATE_BUDGET`; only chunks in
scope holding one of those are candidates, and every query word scores them. If they give fewer than
``limit`` hits, up to :data:`CANDIDATE_CAP` more chunks in scope holding any word (newest first) are
scored too. Every bound depends on the tenant's data only. What remains shared is time: FTS5 walks
posting lists that hold every tenant's chunks, so a search's duration still grows (slightly) with
other tenants' use of its words.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from ..sql.analysis import TOKEN
from ..sql.scope import scope_condition
from ..sql.words import rarest_first
from .dialect import SQLITE
from .fts import any_of, scope_token, scoped_match
from .scope import filter_condition

K1 = 1.2
B = 0.75

CANDIDATE_BUDGET = 2000
"""Rare words pick the candidates while the tenant's chunks holding them (summed) stay within this."""

CANDIDATE_CAP = 2000
"""When the rare words give fewer hits than asked, at most this many more chunks in scope are scored."""

DF_CAP = 8000
"""Document frequencies are counted up to this many chunks: a word in more of the tenant's chunks is
weighted as if it were in exactly this many (a little more than its true, near-zero BM25 weight).
Counting the whole posting list of the commonest words was most of a search's time at 100k chunks."""

_COUNT = "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)"


@dataclass(frozen=True)
class TenantStats:
    chunks: int
    mean_length: float
    df: dict[str, int]


def tenant_stats(conn: sqlite3.Connection, tenant_id: str, terms: list[str]) -> TenantStats:
    """The tenant's chunk count, mean length, and the frequency of each of ``terms`` it holds."""
    token = scope_token("t", tenant_id)
    row = conn.execute(
        "SELECT t.chunks, t.length, (SELECT sum(chunks) FROM keyword_totals) FROM keyword_totals t"
        " WHERE t.tenant_key = ?",
        (token,),
    ).fetchone()
    chunks, length, everyone = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
    # The tenant's own chunks are every chunk of the file (one tenant: the usual self-hosted case):
    # the word's posting list alone gives the same count, at about half the cost of intersecting it
    # with the tenant's token.
    scoped = f"scope_key : ({token}) AND " if chunks < everyone else ""
    df: dict[str, int] = {}
    for term in terms:
        expression = f"{scoped}keyword_text : ({any_of([term])})"
        found = int(conn.execute(_COUNT, (expression, DF_CAP)).fetchone()[0])
        if found:
            df[term] = found
    return TenantStats(chunks=chunks, mean_length=length / chunks if chunks > 0 else 1.0, df=df)


def keyword_search(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, terms: list[str], limit: int
) -> list[ChunkHit]:
    """The best ``limit`` chunks in scope for ``terms`` (a query's words as the store's analyser made
    them: :meth:`~memhub.storage.sql.analysis.KeywordAnalyser.terms`)."""
    if not terms or limit <= 0:
        return []
    stats = tenant_stats(conn, scope.tenant_id, terms)
    if not stats.df:
        return []
    rare, common = rarest_first(stats.df, CANDIDATE_BUDGET)
    rows = _candidates(conn, scope, flt, rare, None) if rare else []
    if common and len(rows) < limit:
        seen = {row[0] for row in rows}
        rows += [
            row for row in _candidates(conn, scope, flt, rare + common, CANDIDATE_CAP) if row[0] not in seen
        ]
    score = _Scorer(stats)
    ranked = sorted(((score(row[3], row[4]), row) for row in rows), key=lambda hit: (-hit[0], hit[1][0]))
    return [ChunkHit(chunk_id=row[1], memory_id=row[2], score=value) for value, row in ranked[:limit]]


Row = tuple[int, str, str, str, int]  # chunk rid, chunk id, memory id, keyword text, sparse key length


def _candidates(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, terms: list[str], cap: int | None
) -> list[Row]:
    """Chunks in scope (and passing the filter) holding one of ``terms``; the newest ``cap`` if given."""
    expression = scoped_match(
        any_of(terms), scope.tenant_id, scope.space_ids, scope.user_id, scope.session_id
    )
    where, params = scope_condition(SQLITE, scope)
    where += filter_condition(conn, flt)
    sql = (
        "SELECT c.rid, c.id, m.id, c.keyword_text, length(c.sparse_key) FROM chunks_fts"
        " JOIN chunks c ON c.rid = chunks_fts.rowid JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE chunks_fts MATCH ? AND {where}"
    )
    if cap is not None:
        sql += f" ORDER BY chunks_fts.rowid DESC LIMIT {int(cap)}"
    return [(int(r[0]), r[1], r[2], r[3], int(r[4])) for r in conn.execute(sql, (expression, *params))]


class _Scorer:
    """BM25 of one chunk's keyword text for the query's terms, with the tenant's statistics. A chunk's
    length is its ``sparse_key``'s characters, as ``keyword_totals`` sums them."""

    def __init__(self, stats: TenantStats):
        self.mean_length = stats.mean_length
        chunks = max(stats.chunks, *stats.df.values())
        weighted = [
            (tuple(TOKEN.findall(term)), math.log(1.0 + (chunks - df + 0.5) / (df + 0.5)))
            for term, df in stats.df.items()
        ]
        # Longer phrases first: one pass of one pattern finds every query word's occurrences, as whole
        # tokens (neither side may touch another letter or digit), each in its own group.
        weighted = sorted((t for t in weighted if t[0]), key=lambda t: -len(t[0]))
        self.idf = [idf for _, idf in weighted]
        self.phrases = [phrase for phrase, _ in weighted]
        # Every query word one token (the usual case): a key's words are counted in C, not match by
        # match in Python. ``keyword_text`` is the analyser's tokens joined by single spaces
        # (``sql/analysis.py``), so a word occurs as a whole token exactly where " word " occurs in the
        # text with a space added at both ends; ``str.count`` finds them all unless two follow each
        # other (they would share a space), and then the text with its spaces doubled is counted.
        # Summing the words in the order they first occur gives the patterns' score to the bit, at a
        # third of their cost (``docs/decisions/search-latency.md``).
        self.spaced: list[tuple[str, str, float]] | None = None
        if all(len(phrase) == 1 for phrase, _ in weighted):
            token_idf: dict[str, float] = {}
            for phrase, idf in weighted:
                token_idf.setdefault(phrase[0], idf)  # two words that fold alike: the first keeps it
            self.spaced = [(word, f" {word} ", idf) for word, idf in token_idf.items()]

    def __call__(self, keyword_text: str, length: int) -> float:
        if not self.idf:
            return 0.0
        norm = K1 * (1 - B + B * length / self.mean_length)
        if self.spaced is None:
            return self.by_pattern(keyword_text, norm)
        present = [entry for entry in self.spaced if entry[0] in keyword_text]
        if not present:  # no query word even as part of a token
            return 0.0
        text = " " + keyword_text + " "
        found = []
        for word, spaced, idf in present:
            tf = text.count(spaced)
            if tf:
                if f"{spaced}{word} " in text:  # twice in a row: " a a " holds " a " twice, count says once
                    tf = (" " + keyword_text.replace(" ", "  ") + " ").count(spaced)
                found.append((text.find(spaced), idf, tf))
        found.sort()  # first occurrence first: the order the patterns' counts were summed in
        return sum((idf * tf * (K1 + 1) / (tf + norm) for _, idf, tf in found), 0.0)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """One pattern of all the query's words (compiled only for a query with a word of several
        tokens: compiling it was a tenth of a millisecond of every search)."""
        alternatives = ("(" + r"[\W_]+".join(map(re.escape, phrase)) + ")" for phrase in self.phrases)
        return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")

    def by_pattern(self, keyword_text: str, norm: float) -> float:
        """The score found with the one pattern of all query words (any word of several tokens)."""
        counts = Counter(match.lastindex for match in self.pattern.finditer(keyword_text))
        return sum(
            (self.idf[group - 1] * tf * (K1 + 1) / (tf + norm) for group, tf in counts.items() if group), 0.0
        )
