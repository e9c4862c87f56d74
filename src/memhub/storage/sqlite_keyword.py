"""Keyword search: FTS5 over chunks' ``sparse_key``, ranked by ``bm25()``, within a scope and filter.

FTS5's ``bm25()`` is "lower is better" (it returns minus the score); hits report its negation, a
non-negative "higher is better" number as the Protocol asks. Its weights (1, 0) count the words column
only: the ``scope_key`` column (see ``fts.py``) narrows the match but must not score. The scope, the
metadata filter and ``LIMIT`` are in the same statement as ``MATCH``, so ``limit`` hits come back
whenever that many chunks in scope match. BM25's statistics (document frequencies, average length) are
those of the whole index — every tenant's chunks — which only shifts scores, never which chunks may be
returned.
"""

from __future__ import annotations

import sqlite3

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from .fts import match_expression, scoped_match
from .sqlite_scope import filter_condition, scope_condition


def keyword_search(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, text: str, limit: int
) -> list[ChunkHit]:
    words = match_expression(text)
    if words is None or limit <= 0:
        return []
    expression = scoped_match(words, scope.tenant_id, scope.space_ids, scope.user_id, scope.session_id)
    where, params = scope_condition(scope)
    where += filter_condition(conn, flt)
    sql = (
        "SELECT c.id, m.id, bm25(chunks_fts, 1.0, 0.0) AS rank FROM chunks_fts"
        " JOIN chunks c ON c.rid = chunks_fts.rowid JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE chunks_fts MATCH ? AND {where} ORDER BY rank, c.rid LIMIT ?"
    )
    rows = conn.execute(sql, (expression, *params, limit))
    return [ChunkHit(chunk_id=row[0], memory_id=row[1], score=-float(row[2])) for row in rows]
