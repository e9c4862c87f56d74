"""The PostgreSQL schema as ordered, named migration steps, like ``sqlite/schema.py``.

Each step runs once, in a transaction of its own, recorded in ``memhub_migrations``; every process that
opens the store applies what is missing. Steps are append-only. Several processes may start at once on a
fresh database: each takes a transaction-scoped advisory lock (keyed by the current schema, so separate
schemas in one database migrate independently) and re-checks the table under it.

Differences from the SQLite schema, and why:

- times are ``timestamptz`` and metadata ``jsonb``: the database compares and filters them natively;
- keyword search reads ``chunks.tsv`` (a ``tsvector`` written with the chunk, GIN-indexed) — FTS5's
  virtual table has no counterpart here; the document frequencies BM25 needs are kept by triggers on
  ``chunks`` (``keyword_terms.py``);
- ``chunk_vectors`` carries a copy of the vector (pgvector ``vector``) and the memory's ``rid``, so a
  nearest-neighbour query reads one table and one join. HNSW indexes are per embedding model (an HNSW
  index needs one dimension) and created when a model is first seen (``vectors.ensure_model``);
- ids are ``COLLATE "C"`` (byte order), so listings tie-break on ids exactly as SQLite does;
- there is no revision counter or tombstone table: nothing is cached outside the database.

The ``vector`` extension must exist in the database. If it does not, the store tries to create it; that
needs a role allowed to (a superuser, or the database owner on PostgreSQL ≥ 13 if pgvector is trusted),
so on a managed server an administrator runs ``CREATE EXTENSION vector`` once (see the README).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from psycopg import errors as pg_errors

from memhub.core.errors import Unavailable

from ..sql.analysis import KeywordAnalyser
from ..sql.settings import use_analyser
from . import analysis, keyword_terms
from .db import Conn

_CORE = (
    """CREATE TABLE tenants (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL)""",
    """CREATE TABLE api_keys (
        id text COLLATE "C" PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz)""",
    "CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at)",
    """CREATE TABLE spaces (
        id text COLLATE "C" PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (tenant_id, name))""",
    """CREATE TABLE users (
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id text COLLATE "C" NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    """CREATE TABLE sessions (
        tenant_id text NOT NULL,
        id text COLLATE "C" NOT NULL,
        space_id text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id text NOT NULL,
        metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX sessions_space ON sessions(space_id)",
    "CREATE INDEX sessions_user ON sessions(tenant_id, user_id, created_at, id)",
    "CREATE INDEX sessions_list ON sessions(tenant_id, created_at, id)",
)

_JOBS = (
    """CREATE TABLE jobs (
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text COLLATE "C" PRIMARY KEY,
        tenant_id text NOT NULL,
        space_id text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id text,
        kind text NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL,
        last_error text,
        lease_owner text,
        lease_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        memory_ids jsonb NOT NULL,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX jobs_open ON jobs(created_at, seq) WHERE status IN ('pending', 'processing')",
    "CREATE INDEX jobs_owner ON jobs(lease_owner) WHERE lease_owner IS NOT NULL",
    "CREATE INDEX jobs_space ON jobs(space_id)",
    "CREATE INDEX jobs_user ON jobs(tenant_id, user_id)",
    "CREATE INDEX jobs_tenant_status ON jobs(tenant_id, status)",
    """CREATE TABLE events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        tenant_id text NOT NULL,
        space_id text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id text,
        session_id text,
        kind text NOT NULL,
        role text,
        name text,
        content text NOT NULL,
        external_id text,
        metadata jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position integer NOT NULL,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX events_tenant ON events(tenant_id, occurred_at, seq)",
    "CREATE INDEX events_user ON events(tenant_id, user_id, occurred_at, seq)",
    "CREATE INDEX events_session ON events(tenant_id, session_id, occurred_at, seq)",
    "CREATE INDEX events_space ON events(space_id)",
    "CREATE INDEX events_job ON events(job_id, position)",
)

_MEMORIES = (
    """CREATE TABLE memories (
        rid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        tenant_id text NOT NULL,
        space_id text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id text,
        session_id text,
        kind text NOT NULL,
        core boolean NOT NULL,
        text text NOT NULL,
        metadata jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        valid_from timestamptz,
        valid_to timestamptz,
        superseded_by text,
        job_id text,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX memories_tenant ON memories(tenant_id, created_at, id)",
    "CREATE INDEX memories_user ON memories(tenant_id, user_id, created_at, id)",
    "CREATE INDEX memories_session ON memories(tenant_id, session_id, created_at, id)",
    "CREATE INDEX memories_space ON memories(space_id, created_at, id)",
    """CREATE TABLE memory_sources (
        memory_rid bigint NOT NULL REFERENCES memories(rid) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        event_id text NOT NULL,
        external_id text,
        PRIMARY KEY (memory_rid, ordinal))""",
    "CREATE INDEX memory_sources_event ON memory_sources(event_id)",
    """CREATE TABLE chunks (
        rid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        memory_rid bigint NOT NULL REFERENCES memories(rid) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        text text NOT NULL,
        dense_key text NOT NULL,
        sparse_key text NOT NULL,
        start_offset integer,
        end_offset integer,
        tsv tsvector NOT NULL)""",
    "CREATE INDEX chunks_memory ON chunks(memory_rid, ordinal)",
    "CREATE INDEX chunks_tsv ON chunks USING gin (tsv)",
    """CREATE TABLE models (
        model_id text PRIMARY KEY,
        dim integer NOT NULL)""",
    """CREATE TABLE vectors (
        model_id text NOT NULL REFERENCES models(model_id),
        hash text NOT NULL,
        vector vector NOT NULL,
        PRIMARY KEY (model_id, hash))""",
    """CREATE TABLE chunk_vectors (
        chunk_rid bigint NOT NULL REFERENCES chunks(rid) ON DELETE CASCADE,
        model_id text NOT NULL,
        vector_hash text NOT NULL,
        memory_rid bigint NOT NULL,
        embedding vector NOT NULL,
        PRIMARY KEY (chunk_rid, model_id))""",
    "CREATE INDEX chunk_vectors_memory ON chunk_vectors(memory_rid, model_id)",
)

_RECORDS = (
    """CREATE TABLE records (
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        collection text NOT NULL,
        id text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, collection, id))""",
    "CREATE INDEX records_list ON records(tenant_id, collection, created_at, id)",
)

_BLOBS = (
    """CREATE TABLE blobs (
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        owner_id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        sha256 text NOT NULL,
        created_at timestamptz NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (tenant_id, owner_id, name))""",
)

_MEMORIES_BY_OCCURRED_AT = (
    # Listings by when a memory's source happened (Memsy's observed_at orders) walk these instead of
    # sorting every memory of the tenant (or user) for each page.
    "CREATE INDEX memories_occurred ON memories(tenant_id, occurred_at, id)",
    "CREATE INDEX memories_user_occurred ON memories(tenant_id, user_id, occurred_at, id)",
)

_VECTOR_RELEASE = (
    # A cached vector goes with the last chunk using it (issue 20: the cache kept the embeddings of
    # forgotten text for ever); the index finds the other users of a hash.
    "CREATE INDEX chunk_vectors_hash ON chunk_vectors(model_id, vector_hash)",
    "DELETE FROM vectors v WHERE NOT EXISTS"
    " (SELECT 1 FROM chunk_vectors cv WHERE cv.model_id = v.model_id AND cv.vector_hash = v.hash)",
    """CREATE FUNCTION memhub_vector_release() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        DELETE FROM vectors v USING (SELECT DISTINCT model_id, vector_hash FROM removed) r
        WHERE v.model_id = r.model_id AND v.hash = r.vector_hash AND NOT EXISTS
            (SELECT 1 FROM chunk_vectors cv
             WHERE cv.model_id = r.model_id AND cv.vector_hash = r.vector_hash);
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER chunk_vectors_release AFTER DELETE ON chunk_vectors REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION memhub_vector_release()",
)

_KEY_ROLES = (
    # Keys gain a role (core/models.py KeyRole). Existing keys follow the rule new ones do: the first
    # live key of each tenant is its admin, the others members.
    "ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'member'",
    """UPDATE api_keys SET role = 'admin' WHERE revoked_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM api_keys older WHERE older.tenant_id = api_keys.tenant_id
        AND older.revoked_at IS NULL
        AND (older.created_at, older.id) < (api_keys.created_at, api_keys.id))""",
)

_VECTOR_SPACE = (
    # The model searches use and the one a `memhub reindex` moves the store to (sql/vector_space.py).
    """CREATE TABLE vector_space (
        id integer PRIMARY KEY CHECK (id = 1),
        active text,
        target text)""",
    "INSERT INTO vector_space (id) VALUES (1)",
)

Step = str | Callable[[Conn, KeywordAnalyser], None]
"""A statement, or Python work run in the step's transaction (given the store's keyword analyser)."""

_KEYWORD_ANALYSIS: tuple[Step, ...] = (
    # Chunks' tsv becomes the analysed (folded, tokenised, stemmed) sparse_key, and the analyser is
    # recorded (analysis.py says why and how).
    analysis.SETTINGS_TABLE,
    analysis.reanalyse,
)

MIGRATIONS: tuple[tuple[str, tuple[Step, ...]], ...] = (
    ("0001_core", _CORE),
    ("0002_jobs_events", _JOBS),
    ("0003_memories_chunks_vectors", _MEMORIES),
    ("0004_records", _RECORDS),
    ("0005_blobs", _BLOBS),
    ("0006_memories_by_occurred_at", _MEMORIES_BY_OCCURRED_AT),
    ("0007_keyword_term_stats", keyword_terms.MIGRATION),
    ("0008_keyword_stats_per_tenant", keyword_terms.PER_TENANT_MIGRATION),
    ("0009_vector_release", _VECTOR_RELEASE),
    ("0010_key_roles", _KEY_ROLES),
    ("0011_vector_space", _VECTOR_SPACE),
    ("0012_keyword_analysis", _KEYWORD_ANALYSIS),
)

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('memhub-migrate:' || current_schema()))"
_EXTENSION_HELP = (
    "the pgvector extension is missing and this role may not create it: as a superuser, run"
    " CREATE EXTENSION vector; in this database, then start memhub again"
)


def migrate(conn: Conn, analyser: KeywordAnalyser | None = None) -> list[str]:
    """Ensure the ``vector`` extension, apply the missing steps in order; return the names applied now.
    Chunks are (re-)analysed for keyword search with ``analyser`` (English stemming if not given).

    ``conn`` must be in autocommit mode: each step opens its own transaction.
    """
    analyser = analyser or KeywordAnalyser()
    _ensure_extension(conn)
    with _locked(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS memhub_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL)"
        )
    applied = [name for name, statements in MIGRATIONS if _apply(conn, name, statements, analyser)]
    _use_analyser(conn, analyser)
    return applied


def _use_analyser(conn: Conn, analyser: KeywordAnalyser) -> None:
    """Re-analyse every chunk if the store's chunks were indexed by another analyser (the setting
    changed): searches analyse their words with this one, and must find what they look for."""
    if conn.execute("SELECT to_regclass('store_settings') AS t").fetchone()["t"] is None:  # type: ignore[index]
        return  # an older schema (only in tests that stop migrating early)
    use_analyser(conn, analyser.name, lambda: _locked(conn), lambda: analysis.reanalyse(conn, analyser))


@contextmanager
def _locked(conn: Conn) -> Iterator[None]:
    """A transaction holding the migration lock: one process at a time migrates or re-analyses."""
    with conn.transaction():
        conn.execute(_LOCK)
        yield


def applied_migrations(conn: Conn) -> list[str]:
    rows = conn.execute("SELECT name FROM memhub_migrations ORDER BY name").fetchall()
    return [str(row["name"]) for row in rows]


def _ensure_extension(conn: Conn) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('memhub-create-extension'))")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except (pg_errors.InsufficientPrivilege, pg_errors.FeatureNotSupported, pg_errors.UndefinedFile) as exc:
        raise Unavailable(_EXTENSION_HELP) from exc


def _apply(conn: Conn, name: str, steps: tuple[Step, ...], analyser: KeywordAnalyser) -> bool:
    with _locked(conn):
        if conn.execute("SELECT 1 FROM memhub_migrations WHERE name = %s", (name,)).fetchone():
            return False
        for step in steps:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn, analyser)
        conn.execute("INSERT INTO memhub_migrations (name, applied_at) VALUES (%s, now())", (name,))
    return True
