"""Re-analysing the chunks' keyword text on PostgreSQL, when the analyser changes (or first appears).

``chunks.tsv`` holds each chunk's ``sparse_key`` as the store's analyser made it (``sql/analysis.py``:
folded, tokenised, stemmed). Chunks written before stemming existed hold ``to_tsvector('simple', …)`` of
the folded raw text, and a store may be opened with another ``MEMHUB_KEYWORD_STEMMER`` than it was
written with: either way its query words would no longer meet its index ("camping" is looked up as
"camp", which an unstemmed chunk does not hold). So every chunk's ``tsv`` is computed again, in Python,
in batches, in one transaction that keeps writers out; the triggers of ``keyword_terms.py`` move the
document frequencies along, and the terms left at zero (the unstemmed forms) are then deleted, so the
statistics are exactly those of a store written with the new analyser from the start.
"""

from __future__ import annotations

from ..sql.analysis import KeywordAnalyser
from ..sql.settings import ANALYSER_KEY
from .db import Conn

BATCH = 1000
"""Chunks analysed and updated per statement."""

SETTINGS_TABLE = "CREATE TABLE store_settings (key text PRIMARY KEY, value text NOT NULL)"


def reanalyse(conn: Conn, analyser: KeywordAnalyser) -> None:
    """Every chunk's ``tsv`` made again by ``analyser``, and ``analyser`` recorded. Runs inside the
    caller's transaction."""
    conn.execute("LOCK TABLE chunks IN SHARE ROW EXCLUSIVE MODE")
    last = -1
    while True:
        rows = conn.execute(
            "SELECT rid, sparse_key FROM chunks WHERE rid > %s ORDER BY rid LIMIT %s", (last, BATCH)
        ).fetchall()
        if not rows:
            break
        conn.execute(
            "UPDATE chunks c SET tsv = to_tsvector('simple', v.text)"
            " FROM unnest(%s::bigint[], %s::text[]) AS v(rid, text) WHERE c.rid = v.rid",
            ([int(r["rid"]) for r in rows], [analyser.text(str(r["sparse_key"])) for r in rows]),
        )
        last = int(rows[-1]["rid"])
    conn.execute(
        "DELETE FROM keyword_terms k USING (SELECT tenant_id, term FROM keyword_terms"
        " GROUP BY tenant_id, term HAVING sum(df) = 0) AS z"
        " WHERE k.tenant_id = z.tenant_id AND k.term = z.term"
    )
    conn.execute(
        "INSERT INTO store_settings (key, value) VALUES (%s, %s)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (ANALYSER_KEY, analyser.name),
    )
