"""Keyword search: FTS5 over chunks' ``sparse_key``, ranked by ``bm25()``, within a scope and filter.

FTS5's ``bm25()`` is "lower is better" (it returns minus the score); hits report its negation, a
non-negative "higher is better" number as the Protocol asks. The scope, the metadata filter and
``LIMIT`` are in the same statement as ``MATCH``, so ``limit`` hits come back whenever that many
chunks in scope match. BM25's statistics (document frequencies, average length) are those of the
whole index — every tenant's chunks — which only shifts scores, never which chunks may be returned.
"""

from __future__ import annotations

import sqlite3

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from .fts import match_expression
from .sqlite_scope import filter_condition, scope_condition


def keyword_search(
    conn: sqlite3.Connection, scope: Scope, flt: Filter | None, text: str, limit: int
) -> list[ChunkHit]:
    expression = match_expression(text)
    if expression is None or limit <= 0:
        return []
    where, params = scope_condition(scope)
    where += filter_condition(conn, flt)
    sql = (
        "SELECT c.id, m.id, bm25(chunks_fts) AS rank FROM chunks_fts"
        " JOIN chunks c ON c.rid = chunks_fts.rowid JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE chunks_fts MATCH ? AND {where} ORDER BY rank, c.rid LIMIT ?"
    )
    rows = conn.execute(sql, (expression, *params, limit))
    return [ChunkHit(chunk_id=row[0], memory_id=row[1], score=-float(row[2])) for row in rows]
