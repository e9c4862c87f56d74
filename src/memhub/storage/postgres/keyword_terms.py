"""Document frequencies of keyword-index terms on PostgreSQL, kept by the database itself.

Keyword search ranks with BM25 (``keyword.py``), which needs, per term, how many chunks hold it
(its document frequency) and, overall, how many chunks there are and how long they are on average. FTS5
keeps these inside its index; a GIN index does not expose them, and counting at query time costs as
much as the search it is meant to bound. So two tables hold them:

- ``keyword_terms(term, shard, df)``: chunks whose ``tsv`` holds ``term``;
- ``keyword_totals(shard, chunks, lexemes)``: chunks, and the sum of their distinct-lexeme counts
  (``length(tsv)``, BM25's document length here).

Statement-level triggers on ``chunks`` (with transition tables) update both in the transaction that
writes or deletes the chunks — inserts, cascaded deletes (a memory, a session, a user, a space, a tenant)
and updates alike — so the figures are exact at every commit, whoever writes the rows: the store, a
bulk load, or an older memhub still running during an upgrade. One upsert per chunk-writing statement
(grouped by term), not one per chunk. The triggers roughly double the cost of writing chunks, most of
it upserting a batch's distinct terms (docs/decisions/postgres-keyword-term-stats.md).

Why ``shard``: common words ("the") are in nearly every write, and an upsert row-locks its counter until
commit, which would serialise every concurrent ingest on the hottest term. Each connection adds to the
rows of its own shard (backend pid modulo :data:`SHARDS`); readers sum the shards. A shard may go
negative (a chunk added through one connection, deleted through another); only the sums mean anything.

The figures cover every tenant's chunks, like FTS5's on the SQLite store: ranking statistics are
shared, scoping and filtering never are. The migration that creates the tables fills them from the
chunks already stored, holding a lock that keeps writers out until the triggers exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import Conn

SHARDS = 8

_COUNT_FUNCTION = """
CREATE FUNCTION memhub_keyword_count() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
    my_shard smallint := pg_backend_pid() % %(shards)s;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO keyword_terms (term, shard, df)
        SELECT u.lexeme, my_shard, count(*) FROM added, unnest(tsvector_to_array(added.tsv)) AS u(lexeme)
        GROUP BY u.lexeme ORDER BY u.lexeme
        ON CONFLICT (term, shard) DO UPDATE SET df = keyword_terms.df + excluded.df;
        INSERT INTO keyword_totals (shard, chunks, lexemes)
        SELECT my_shard, count(*), coalesce(sum(length(tsv)), 0) FROM added HAVING count(*) > 0
        ON CONFLICT (shard) DO UPDATE SET chunks = keyword_totals.chunks + excluded.chunks,
            lexemes = keyword_totals.lexemes + excluded.lexemes;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO keyword_terms (term, shard, df)
        SELECT u.lexeme, my_shard, -count(*) FROM removed, unnest(tsvector_to_array(removed.tsv)) AS u(lexeme)
        GROUP BY u.lexeme ORDER BY u.lexeme
        ON CONFLICT (term, shard) DO UPDATE SET df = keyword_terms.df + excluded.df;
        INSERT INTO keyword_totals (shard, chunks, lexemes)
        SELECT my_shard, -count(*), -coalesce(sum(length(tsv)), 0) FROM removed HAVING count(*) > 0
        ON CONFLICT (shard) DO UPDATE SET chunks = keyword_totals.chunks + excluded.chunks,
            lexemes = keyword_totals.lexemes + excluded.lexemes;
    END IF;
    RETURN NULL;
END $$""".replace("%(shards)s", str(SHARDS))

MIGRATION: tuple[str, ...] = (
    # Writers wait here (and for the rest of this transaction): no chunk can slip in between the
    # backfill below and the triggers that count from then on.
    "LOCK TABLE chunks IN SHARE ROW EXCLUSIVE MODE",
    """CREATE TABLE keyword_terms (
        term text COLLATE "C" NOT NULL,
        shard smallint NOT NULL,
        df bigint NOT NULL,
        PRIMARY KEY (term, shard))""",
    """CREATE TABLE keyword_totals (
        shard smallint PRIMARY KEY,
        chunks bigint NOT NULL,
        lexemes bigint NOT NULL)""",
    "INSERT INTO keyword_terms (term, shard, df)"
    " SELECT u.lexeme, 0, count(*) FROM chunks, unnest(tsvector_to_array(chunks.tsv)) AS u(lexeme)"
    " GROUP BY u.lexeme",
    "INSERT INTO keyword_totals (shard, chunks, lexemes)"
    " SELECT 0, count(*), coalesce(sum(length(tsv)), 0) FROM chunks",
    _COUNT_FUNCTION,
    "CREATE TRIGGER chunks_keyword_added AFTER INSERT ON chunks REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
    "CREATE TRIGGER chunks_keyword_removed AFTER DELETE ON chunks REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
    "CREATE TRIGGER chunks_keyword_changed AFTER UPDATE ON chunks"
    " REFERENCING OLD TABLE AS removed NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
)


@dataclass(frozen=True)
class TermStats:
    """What BM25 needs for one query: chunks in the index, their mean length, each lexeme's frequency."""

    chunks: int
    mean_length: float
    df: dict[str, int]


def term_stats(conn: Conn, words: list[str]) -> TermStats:
    """The lexemes of ``words`` (folded text; parsed as the index parses chunks) and their frequencies.

    Lexemes no chunk holds are left out: they can neither match nor score.
    """
    rows = conn.execute(
        "SELECT w.lexeme, (SELECT sum(k.df) FROM keyword_terms k WHERE k.term = w.lexeme) AS df,"
        " t.chunks, t.lexemes"
        " FROM (SELECT coalesce(sum(chunks), 0) AS chunks, coalesce(sum(lexemes), 0) AS lexemes"
        "       FROM keyword_totals) AS t"
        " LEFT JOIN (SELECT DISTINCT u.lexeme FROM unnest(%s::text[]) AS q(word),"
        "            unnest(to_tsvector('simple', q.word)) AS u) AS w ON true",
        (words,),
    ).fetchall()
    chunks = int(rows[0]["chunks"]) if rows else 0
    lexemes = int(rows[0]["lexemes"]) if rows else 0
    df = {str(r["lexeme"]): int(r["df"]) for r in rows if r["lexeme"] is not None and (r["df"] or 0) > 0}
    return TermStats(chunks=chunks, mean_length=lexemes / chunks if chunks else 1.0, df=df)
