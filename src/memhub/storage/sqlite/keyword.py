"""Keyword search: FTS5 over chunks' ``sparse_key``, ranked by ``bm25()``, within a scope and filter.

FTS5's ``bm25()`` is "lower is better" (it returns minus the score); hits report its negation, a
non-negative "higher is better" number as the Protocol asks. Its weights (1, 0) count the words column
only: the ``scope_key`` column (see ``fts.py``) narrows the match but must not score. ``limit`` hits
come back whenever that many chunks in scope match: the rank-first plan joins the best few ranked rows
for the scope condition and, when too few pass, the single statement that has the scope, the metadata
filter and ``LIMIT`` beside ``MATCH`` runs instead. BM25's statistics (document frequencies, average
length) are those of the whole index — every tenant's chunks — which only shifts scores, never which
chunks may be returned.
"""

from __future__ import annotations

import sqlite3

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from ..sql.scope import scope_condition
from ..sql.words import query_terms
from .dialect import SQLITE
from .fts import any_of, scoped_match
from .keyword_rank import top_rows
from .rows import placeholders
from .scope import filter_condition

MAX_DEPTH = 4096
"""Ranked rows joined at most in the rank-first plan; deeper pages take the single statement."""


def keyword_search(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, text: str, limit: int
) -> list[ChunkHit]:
    terms = query_terms(text)
    if not terms or limit <= 0:
        return []
    if flt is None and scope.kinds is None and scope.core is None:
        hits = _rank_first(conn, scope, terms, limit)
        if hits is not None:
            return hits
    return _ranked_in_join(conn, scope, flt, any_of(terms), limit)


def _rank_first(
    conn: sqlite3.Connection, scope: Scope, terms: list[str], limit: int
) -> list[ChunkHit] | None:
    """Rank in FTS5 alone (``sqlite/keyword_rank.py`` says why), then join only the best rows for the
    scope condition. None when too few of them are in scope and unranked matches remain.

    Only without a metadata filter, kinds or core: those can reject most matches, and the single
    statement then finds the page sooner. What remains to check — superseded memories, a hash collision
    of scope tokens — rarely rejects anything, so a depth of a few pages suffices.
    """
    depth = 4 * limit + 32
    if depth > MAX_DEPTH:
        return None
    ranked, complete = top_rows(conn, scope, terms, depth)
    where, params = scope_condition(SQLITE, scope)
    sql = (
        # CROSS JOIN keeps the planner from walking the tenant's memories when the IN list is long.
        "SELECT c.rid, c.id, m.id FROM chunks c CROSS JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE c.rid IN ({placeholders(len(ranked))}) AND {where}"
    )
    ids = {row[0]: (row[1], row[2]) for row in conn.execute(sql, (*(rid for rid, _ in ranked), *params))}
    hits = [ChunkHit(*ids[rid], score=-rank) for rid, rank in ranked if rid in ids][:limit]
    return hits if len(hits) == limit or complete else None


def _ranked_in_join(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, words: str, limit: int
) -> list[ChunkHit]:
    """One statement: every match joined, filtered and ranked (exact whatever the filter rejects)."""
    expression = scoped_match(words, scope.tenant_id, scope.space_ids, scope.user_id, scope.session_id)
    where, params = scope_condition(SQLITE, scope)
    where += filter_condition(conn, flt)
    sql = (
        "SELECT c.id, m.id, bm25(chunks_fts, 1.0, 0.0) AS rank FROM chunks_fts"
        " JOIN chunks c ON c.rid = chunks_fts.rowid JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE chunks_fts MATCH ? AND {where} ORDER BY rank, c.rid LIMIT ?"
    )
    rows = conn.execute(sql, (expression, *params, limit))
    return [ChunkHit(chunk_id=row[0], memory_id=row[1], score=-float(row[2])) for row in rows]
