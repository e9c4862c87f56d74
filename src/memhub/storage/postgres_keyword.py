"""Keyword search on PostgreSQL: ``tsvector`` + GIN over chunks' ``sparse_key``, ranked by ``ts_rank``.

Text is folded in Python the same way for the index and for queries (:func:`fold`: NFKD, combining marks
dropped, lower case) and parsed with the ``simple`` configuration (no stemming, no stop list), which is
what SQLite's ``unicode61 remove_diacritics 2`` tokenizer does: "CAFE" finds "café" on both stores,
without the ``unaccent`` extension. Doing the folding in Python, not in SQL, means a server without
contrib modules works too.

The query side matches ``fts.match_expression``: the text is cut into words, very common words are
dropped unless nothing else is left (:data:`fts.STOP_WORDS`), at most :data:`fts.MAX_TERMS` distinct
words are kept, and the words are ORed — each through ``plainto_tsquery``, so no character of user
text is ever parsed as tsquery syntax.

Scores: ``ts_rank`` with normalisation 1 (divided by 1 + log of the chunk's length), a "higher is better"
number > 0 for every hit, as the Protocol asks. It is not BM25 — it has no inverse document frequency —
so its scale differs from the SQLite store's; retrieval fuses keyword scores by z-score within a query
(``core/ranking.py``), which only looks at the order and spread of one store's scores, and reports the
cosine as the score, so results mean the same on both stores.
"""

from __future__ import annotations

import re
import unicodedata

from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit

from .fts import MAX_TERMS, STOP_WORDS
from .postgres_db import Conn
from .postgres_scope import filter_condition, scope_condition

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without diacritics: what is indexed, and what queries are compared with."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", " "))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def query_terms(text: str) -> list[str]:
    """The words to search for (folded), or [] when the text holds none."""
    terms: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        terms.setdefault(word, None)
        if len(terms) == MAX_TERMS:
            break
    return [term for term in terms if term not in STOP_WORDS] or list(terms)


def keyword_search(conn: Conn, scope: Scope, flt: Filter | None, text: str, limit: int) -> list[ChunkHit]:
    terms = query_terms(text)
    if not terms or limit <= 0:
        return []
    tsquery = " || ".join(["plainto_tsquery('simple', %s)"] * len(terms))
    where, params = scope_condition(scope)
    where += filter_condition(flt, params)
    statement = (
        f"SELECT c.id AS chunk_id, m.id AS memory_id, ts_rank(c.tsv, q.q, 1) AS rank"
        f" FROM (SELECT {tsquery} AS q) AS q, chunks c JOIN memories m ON m.rid = c.memory_rid"
        f" WHERE c.tsv @@ q.q AND {where} ORDER BY rank DESC, c.rid LIMIT %s"
    )
    rows = conn.execute(statement, (*terms, *params, limit)).fetchall()
    return [ChunkHit(chunk_id=r["chunk_id"], memory_id=r["memory_id"], score=float(r["rank"])) for r in rows]
