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

The figures are **per tenant** (``tenant_id`` leads both keys): statistics over every tenant's chunks
let one tenant's writes move another's scores, so a tenant could learn whether anyone holds a rare word
(issue 20). ``chunks.tenant_id`` is filled from the memory by a row trigger. The migrations that create
the tables fill them from the chunks already stored, holding a lock that keeps writers out until the
triggers exist. Forgetting leaves rows whose shards sum to zero: :func:`drop_zero_terms` removes them,
so a forgotten word does not stay in this table in plain text.
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

_TRIGGERS = (
    "CREATE TRIGGER chunks_keyword_added AFTER INSERT ON chunks REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
    "CREATE TRIGGER chunks_keyword_removed AFTER DELETE ON chunks REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
    "CREATE TRIGGER chunks_keyword_changed AFTER UPDATE ON chunks"
    " REFERENCING OLD TABLE AS removed NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_keyword_count()",
)

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
    *_TRIGGERS,
)


_TENANT_FUNCTION = """
CREATE FUNCTION memhub_chunk_tenant() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    NEW.tenant_id := (SELECT m.tenant_id FROM memories m WHERE m.rid = NEW.memory_rid);
    RETURN NEW;
END $$"""

_COUNT_PER_TENANT = """
CREATE FUNCTION memhub_keyword_count() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
    my_shard smallint := pg_backend_pid() % %(shards)s;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO keyword_terms (tenant_id, term, shard, df)
        SELECT added.tenant_id, u.lexeme, my_shard, count(*)
        FROM added, unnest(tsvector_to_array(added.tsv)) AS u(lexeme)
        GROUP BY added.tenant_id, u.lexeme ORDER BY added.tenant_id, u.lexeme
        ON CONFLICT (tenant_id, term, shard) DO UPDATE SET df = keyword_terms.df + excluded.df;
        INSERT INTO keyword_totals (tenant_id, shard, chunks, lexemes)
        SELECT tenant_id, my_shard, count(*), coalesce(sum(length(tsv)), 0) FROM added
        GROUP BY tenant_id ORDER BY tenant_id
        ON CONFLICT (tenant_id, shard) DO UPDATE SET chunks = keyword_totals.chunks + excluded.chunks,
            lexemes = keyword_totals.lexemes + excluded.lexemes;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO keyword_terms (tenant_id, term, shard, df)
        SELECT removed.tenant_id, u.lexeme, my_shard, -count(*)
        FROM removed, unnest(tsvector_to_array(removed.tsv)) AS u(lexeme)
        GROUP BY removed.tenant_id, u.lexeme ORDER BY removed.tenant_id, u.lexeme
        ON CONFLICT (tenant_id, term, shard) DO UPDATE SET df = keyword_terms.df + excluded.df;
        INSERT INTO keyword_totals (tenant_id, shard, chunks, lexemes)
        SELECT tenant_id, my_shard, -count(*), -coalesce(sum(length(tsv)), 0) FROM removed
        GROUP BY tenant_id ORDER BY tenant_id
        ON CONFLICT (tenant_id, shard) DO UPDATE SET chunks = keyword_totals.chunks + excluded.chunks,
            lexemes = keyword_totals.lexemes + excluded.lexemes;
    END IF;
    RETURN NULL;
END $$""".replace("%(shards)s", str(SHARDS))

PER_TENANT_MIGRATION: tuple[str, ...] = (
    # The statistics become per tenant (module docstring): chunks carry their tenant (filled by a row
    # trigger from the memory, so no writer has to), and both tables are keyed by it.
    "LOCK TABLE chunks IN SHARE ROW EXCLUSIVE MODE",
    "DROP TRIGGER chunks_keyword_added ON chunks",
    "DROP TRIGGER chunks_keyword_removed ON chunks",
    "DROP TRIGGER chunks_keyword_changed ON chunks",
    "DROP FUNCTION memhub_keyword_count()",
    "DROP TABLE keyword_terms",
    "DROP TABLE keyword_totals",
    'ALTER TABLE chunks ADD COLUMN tenant_id text COLLATE "C"',
    "UPDATE chunks c SET tenant_id = m.tenant_id FROM memories m WHERE m.rid = c.memory_rid",
    _TENANT_FUNCTION,
    "CREATE TRIGGER chunks_tenant BEFORE INSERT ON chunks"
    " FOR EACH ROW EXECUTE FUNCTION memhub_chunk_tenant()",
    """CREATE TABLE keyword_terms (
        tenant_id text COLLATE "C" NOT NULL,
        term text COLLATE "C" NOT NULL,
        shard smallint NOT NULL,
        df bigint NOT NULL,
        PRIMARY KEY (tenant_id, term, shard))""",
    """CREATE TABLE keyword_totals (
        tenant_id text COLLATE "C" NOT NULL,
        shard smallint NOT NULL,
        chunks bigint NOT NULL,
        lexemes bigint NOT NULL,
        PRIMARY KEY (tenant_id, shard))""",
    "INSERT INTO keyword_terms (tenant_id, term, shard, df)"
    " SELECT chunks.tenant_id, u.lexeme, 0, count(*)"
    " FROM chunks, unnest(tsvector_to_array(chunks.tsv)) AS u(lexeme) GROUP BY chunks.tenant_id, u.lexeme",
    "INSERT INTO keyword_totals (tenant_id, shard, chunks, lexemes)"
    " SELECT tenant_id, 0, count(*), coalesce(sum(length(tsv)), 0) FROM chunks GROUP BY tenant_id",
    _COUNT_PER_TENANT,
    *_TRIGGERS,
)


@dataclass(frozen=True)
class TermStats:
    """What BM25 needs for one query: the tenant's chunks, their mean length, each lexeme's frequency."""

    chunks: int
    mean_length: float
    df: dict[str, int]


def term_stats(conn: Conn, tenant_id: str, words: list[str]) -> TermStats:
    """The lexemes of ``words`` (folded text; parsed as the index parses chunks) and their frequencies
    among ``tenant_id``'s chunks.

    Lexemes no chunk of the tenant holds are left out: they can neither match nor score.
    """
    rows = conn.execute(
        "SELECT w.lexeme, (SELECT sum(k.df) FROM keyword_terms k"
        "                  WHERE k.tenant_id = %s AND k.term = w.lexeme) AS df,"
        " t.chunks, t.lexemes"
        " FROM (SELECT coalesce(sum(chunks), 0) AS chunks, coalesce(sum(lexemes), 0) AS lexemes"
        "       FROM keyword_totals WHERE tenant_id = %s) AS t"
        " LEFT JOIN (SELECT DISTINCT u.lexeme FROM unnest(%s::text[]) AS q(word),"
        "            unnest(to_tsvector('simple', q.word)) AS u) AS w ON true",
        (tenant_id, tenant_id, words),
    ).fetchall()
    chunks = int(rows[0]["chunks"]) if rows else 0
    lexemes = int(rows[0]["lexemes"]) if rows else 0
    df = {str(r["lexeme"]): int(r["df"]) for r in rows if r["lexeme"] is not None and (r["df"] or 0) > 0}
    return TermStats(chunks=chunks, mean_length=lexemes / chunks if chunks else 1.0, df=df)


_ZERO_TERMS = "SELECT term FROM keyword_terms WHERE tenant_id = %s GROUP BY term HAVING sum(df) = 0"


def drop_zero_terms(conn: Conn, tenant_id: str) -> int:
    """Delete ``tenant_id``'s term rows whose shards sum to zero (words no chunk holds any more, kept in
    plain text until now), and totals rows of a tenant with no chunk. Returns the term rows deleted.

    Safe against concurrent writers: the rows are locked and their sum read again under the lock; a
    writer adding to such a term meanwhile either waits for the lock (and then inserts a new row) or
    makes the re-read sum non-zero, so no count is lost.
    """
    terms = [str(row["term"]) for row in conn.execute(_ZERO_TERMS, (tenant_id,)).fetchall()]
    if not terms:
        return 0
    locked = conn.execute(
        "SELECT term, shard, df FROM keyword_terms WHERE tenant_id = %s AND term = ANY(%s)"
        " ORDER BY term, shard FOR UPDATE",
        (tenant_id, terms),
    ).fetchall()
    sums: dict[str, int] = {}
    for row in locked:
        sums[str(row["term"])] = sums.get(str(row["term"]), 0) + int(row["df"])
    gone = [term for term, total in sums.items() if total == 0]
    if gone:
        conn.execute("DELETE FROM keyword_terms WHERE tenant_id = %s AND term = ANY(%s)", (tenant_id, gone))
    return len(gone)
