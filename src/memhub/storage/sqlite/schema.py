"""The SQLite schema as ordered, named migration steps (simonw/llm's pattern).

Each step is applied once, in order, in a transaction of its own, and recorded in ``migrations``; a
store opening the file applies whatever is missing. Steps are append-only: never edit a released one,
add a new step instead. Several processes may open a fresh file at once: each step re-checks
``migrations`` inside its ``BEGIN IMMEDIATE`` transaction, so exactly one of them applies it.

Conventions the code relies on:

- times are ISO-8601 UTC text of fixed width (``codec.py``), so text order is time order;
- ``memories``, ``chunks``, ``events`` and ``jobs`` carry an ``AUTOINCREMENT`` rowid, never reused: the
  in-memory vector index and the cursors refer to rows by it, and a reused rowid would alias a deleted row;
- cascades are declared as foreign keys (``PRAGMA foreign_keys=ON`` on every connection), so deleting a
  space, a user or a memory removes everything below it however the delete was issued;
- triggers keep the derived state that other *processes* rely on: the FTS index, and the revision
  counter (``meta.rev``) + ``tombstones`` from which every process's vector index catches up
  (see ``vectors.py``). Putting this in triggers means no write path can forget it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from memhub.core.errors import Unavailable

from ..sql.analysis import KeywordAnalyser
from ..sql.codec import encode_time
from ..sql.settings import ANALYSER_KEY, use_analyser
from .fts import scope_key


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]


_SCOPE_KEY_FUNCTION = "memhub_scope_key"
_BUMP_REV = "UPDATE meta SET value = value + 1 WHERE key = 'rev';"
_CURRENT_REV = "(SELECT value FROM meta WHERE key = 'rev')"

_CORE_TABLES = (
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)""",
    """INSERT INTO meta (key, value) VALUES ('rev', 0), ('tombstone_floor', 0)""",
    """CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT)""",
    "CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at)",
    """CREATE TABLE spaces (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (tenant_id, name))""",
    """CREATE TABLE users (
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    """CREATE TABLE sessions (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX sessions_space ON sessions(space_id)",
    "CREATE INDEX sessions_user ON sessions(tenant_id, user_id, created_at)",
    "CREATE INDEX sessions_list ON sessions(tenant_id, created_at, id)",
)

_JOB_TABLES = (
    """CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        lease_owner TEXT,
        lease_expires_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        memory_ids TEXT NOT NULL,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    """CREATE INDEX jobs_open ON jobs(created_at, seq)
        WHERE status IN ('pending', 'processing')""",
    "CREATE INDEX jobs_owner ON jobs(lease_owner) WHERE lease_owner IS NOT NULL",
    "CREATE INDEX jobs_space ON jobs(space_id)",
    "CREATE INDEX jobs_user ON jobs(tenant_id, user_id)",
    "CREATE INDEX jobs_tenant_status ON jobs(tenant_id, status)",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id TEXT,
        session_id TEXT,
        kind TEXT NOT NULL,
        role TEXT,
        name TEXT,
        content TEXT NOT NULL,
        external_id TEXT,
        metadata TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX events_tenant ON events(tenant_id, occurred_at, seq)",
    "CREATE INDEX events_user ON events(tenant_id, user_id, occurred_at, seq)",
    "CREATE INDEX events_session ON events(tenant_id, session_id, occurred_at, seq)",
    "CREATE INDEX events_space ON events(space_id)",
    "CREATE INDEX events_job ON events(job_id, position)",
)

_MEMORY_TABLES = (
    """CREATE TABLE memories (
        rid INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id TEXT,
        session_id TEXT,
        kind TEXT NOT NULL,
        core INTEGER NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        superseded_by TEXT,
        job_id TEXT,
        rev INTEGER NOT NULL DEFAULT 0,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE)""",
    "CREATE INDEX memories_tenant ON memories(tenant_id, created_at, id)",
    "CREATE INDEX memories_user ON memories(tenant_id, user_id, created_at, id)",
    "CREATE INDEX memories_session ON memories(tenant_id, session_id, created_at, id)",
    "CREATE INDEX memories_space ON memories(space_id, created_at, id)",
    "CREATE INDEX memories_rev ON memories(tenant_id, rev)",
    """CREATE TABLE memory_sources (
        memory_rid INTEGER NOT NULL REFERENCES memories(rid) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        external_id TEXT,
        PRIMARY KEY (memory_rid, ordinal))""",
    "CREATE INDEX memory_sources_event ON memory_sources(event_id)",
    """CREATE TABLE chunks (
        rid INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        memory_rid INTEGER NOT NULL REFERENCES memories(rid) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        dense_key TEXT NOT NULL,
        sparse_key TEXT NOT NULL,
        start_offset INTEGER,
        end_offset INTEGER)""",
    "CREATE INDEX chunks_memory ON chunks(memory_rid, ordinal)",
    """CREATE TABLE vectors (
        model_id TEXT NOT NULL,
        hash TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, hash))""",
    """CREATE TABLE chunk_vectors (
        chunk_rid INTEGER NOT NULL REFERENCES chunks(rid) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        vector_hash TEXT NOT NULL,
        PRIMARY KEY (chunk_rid, model_id))""",
    """CREATE VIRTUAL TABLE chunks_fts USING fts5(
        sparse_key, content='chunks', content_rowid='rid',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TABLE tombstones (
        rev INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        memory_rid INTEGER NOT NULL,
        PRIMARY KEY (rev, memory_rid))""",
    "CREATE INDEX tombstones_tenant ON tombstones(tenant_id, rev)",
)

_TRIGGERS = (
    """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, sparse_key) VALUES (new.rid, new.sparse_key);
    END""",
    """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, sparse_key) VALUES ('delete', old.rid, old.sparse_key);
    END""",
    f"""CREATE TRIGGER memories_rev_insert AFTER INSERT ON memories BEGIN
        {_BUMP_REV}
        UPDATE memories SET rev = {_CURRENT_REV} WHERE rid = new.rid;
    END""",
    f"""CREATE TRIGGER memories_rev_update
        AFTER UPDATE OF space_id, user_id, session_id, kind, core, metadata, superseded_by ON memories
    BEGIN
        {_BUMP_REV}
        UPDATE memories SET rev = {_CURRENT_REV} WHERE rid = new.rid;
    END""",
    f"""CREATE TRIGGER memories_tombstone AFTER DELETE ON memories BEGIN
        {_BUMP_REV}
        INSERT INTO tombstones (rev, tenant_id, memory_rid) VALUES ({_CURRENT_REV}, old.tenant_id, old.rid);
    END""",
)

_RECORDS = (
    """CREATE TABLE records (
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, collection, id))""",
    "CREATE INDEX records_list ON records(tenant_id, collection, created_at, id)",
)

_BLOBS = (
    """CREATE TABLE blobs (
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        owner_id TEXT NOT NULL,
        name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (tenant_id, owner_id, name))""",
)

_FTS_COLUMNS = "sparse_key, scope_key"
_FTS_SCOPE = (
    # The FTS index gains the scope_key column (fts.py says why). FTS5 cannot add a column, so the
    # index and its triggers are made anew and rebuilt from ``chunks``, existing chunks' keys computed
    # by the SQL function ``migrate()`` registers for the purpose.
    "DROP TRIGGER chunks_fts_insert",
    "DROP TRIGGER chunks_fts_delete",
    "DROP TABLE chunks_fts",
    "ALTER TABLE chunks ADD COLUMN scope_key TEXT NOT NULL DEFAULT ''",
    f"""UPDATE chunks SET scope_key = (
        SELECT {_SCOPE_KEY_FUNCTION}(m.tenant_id, m.space_id, m.user_id, m.session_id)
        FROM memories m WHERE m.rid = chunks.memory_rid)""",
    """CREATE VIRTUAL TABLE chunks_fts USING fts5(
        sparse_key, scope_key, content='chunks', content_rowid='rid',
        tokenize='unicode61 remove_diacritics 2')""",
    "INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')",
    f"""CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, {_FTS_COLUMNS}) VALUES (new.rid, new.sparse_key, new.scope_key);
    END""",
    f"""CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.rid, old.sparse_key, old.scope_key);
    END""",
)

_MEMORIES_BY_OCCURRED_AT = (
    # Listings by when a memory's source happened (Memsy's observed_at orders) walk these instead of
    # sorting every memory of the tenant (or user) for each page.
    "CREATE INDEX memories_occurred ON memories(tenant_id, occurred_at, id)",
    "CREATE INDEX memories_user_occurred ON memories(tenant_id, user_id, occurred_at, id)",
)

_TENANT_KEY = "substr({row}.scope_key, 1, 21)"  # a chunk's tenant scope token: its scope_key's first
_KEYWORD_TOTALS = (
    # Per-tenant chunk count and length for keyword ranking (keyword.py says why FTS5's own
    # statistics, shared by every tenant, are not used), kept by triggers like the FTS index itself.
    """CREATE TABLE keyword_totals (
        tenant_key TEXT PRIMARY KEY,
        chunks INTEGER NOT NULL,
        length INTEGER NOT NULL) WITHOUT ROWID""",
    f"""INSERT INTO keyword_totals (tenant_key, chunks, length)
        SELECT {_TENANT_KEY.format(row="chunks")}, count(*), coalesce(sum(length(sparse_key)), 0)
        FROM chunks GROUP BY 1""",
    f"""CREATE TRIGGER chunks_keyword_totals_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO keyword_totals (tenant_key, chunks, length)
        VALUES ({_TENANT_KEY.format(row="new")}, 1, length(new.sparse_key))
        ON CONFLICT (tenant_key) DO UPDATE SET chunks = chunks + 1, length = length + excluded.length;
    END""",
    f"""CREATE TRIGGER chunks_keyword_totals_delete AFTER DELETE ON chunks BEGIN
        UPDATE keyword_totals SET chunks = chunks - 1, length = length - length(old.sparse_key)
        WHERE tenant_key = {_TENANT_KEY.format(row="old")};
        DELETE FROM keyword_totals WHERE tenant_key = {_TENANT_KEY.format(row="old")} AND chunks <= 0;
    END""",
)

_UNREFERENCED = "NOT EXISTS (SELECT 1 FROM chunk_vectors cv WHERE cv.model_id = {m} AND cv.vector_hash = {h})"
_VECTOR_RELEASE = (
    # A cached vector goes with the last chunk using it: the cache keyed by content would otherwise
    # keep the embeddings of forgotten text for ever (issue 20). The index finds the other users.
    "CREATE INDEX chunk_vectors_hash ON chunk_vectors(model_id, vector_hash)",
    f"DELETE FROM vectors WHERE {_UNREFERENCED.format(m='vectors.model_id', h='vectors.hash')}",
    f"""CREATE TRIGGER chunk_vectors_release AFTER DELETE ON chunk_vectors BEGIN
        DELETE FROM vectors WHERE model_id = old.model_id AND hash = old.vector_hash
        AND {_UNREFERENCED.format(m="old.model_id", h="old.vector_hash")};
    END""",
)

_KEY_ROLES = (
    # Keys gain a role (core/models.py KeyRole). Existing keys follow the rule new ones do: the first
    # live key of each tenant is its admin, the others members.
    "ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'member'",
    """UPDATE api_keys SET role = 'admin' WHERE revoked_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM api_keys older WHERE older.tenant_id = api_keys.tenant_id
        AND older.revoked_at IS NULL
        AND (older.created_at, older.id) < (api_keys.created_at, api_keys.id))""",
)

_VECTOR_SPACE = (
    # The model searches use and the one a `memhub reindex` moves the store to (sql/vector_space.py).
    """CREATE TABLE vector_space (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        active TEXT,
        target TEXT)""",
    "INSERT INTO vector_space (id) VALUES (1)",
)

_KEYWORD_TEXT_FUNCTION = "memhub_keyword_text"
_ANALYSER_FUNCTION = "memhub_keyword_analyser"
_KEYWORD_FTS_COLUMNS = "keyword_text, scope_key"
_REANALYSE = (
    # Every chunk's keyword text analysed again by the store's analyser (``sql/analysis.py``), the FTS
    # index rebuilt from it, and the analyser recorded: in one transaction, so a search sees either the
    # old index or the new one. Also run by :func:`use_analyser` when the configured analyser changes.
    f"UPDATE chunks SET keyword_text = {_KEYWORD_TEXT_FUNCTION}(sparse_key)",
    "INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')",
    f"""INSERT INTO store_settings (key, value) VALUES ('{ANALYSER_KEY}', {_ANALYSER_FUNCTION}())
        ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
)
_KEYWORD_TEXT = (
    # The FTS index reads ``keyword_text``, the analysed (folded, stemmed) ``sparse_key``, instead of
    # ``sparse_key`` itself: FTS5 cannot call a Python stemmer, so the analysed text is stored, and the
    # delete trigger hands FTS5 exactly what was indexed, whatever the analyser is by then.
    "DROP TRIGGER chunks_fts_insert",
    "DROP TRIGGER chunks_fts_delete",
    "DROP TABLE chunks_fts",
    "ALTER TABLE chunks ADD COLUMN keyword_text TEXT NOT NULL DEFAULT ''",
    "CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE VIRTUAL TABLE chunks_fts USING fts5(
        {_KEYWORD_FTS_COLUMNS}, content='chunks', content_rowid='rid',
        tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, {_KEYWORD_FTS_COLUMNS})
        VALUES (new.rid, new.keyword_text, new.scope_key);
    END""",
    f"""CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, {_KEYWORD_FTS_COLUMNS})
        VALUES ('delete', old.rid, old.keyword_text, old.scope_key);
    END""",
    *_REANALYSE,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_core", _CORE_TABLES),
    Migration("0002_jobs_events", _JOB_TABLES),
    Migration("0003_memories_chunks_vectors", _MEMORY_TABLES),
    Migration("0004_triggers", _TRIGGERS),
    Migration("0005_records", _RECORDS),
    Migration("0006_blobs", _BLOBS),
    Migration("0007_fts_scope", _FTS_SCOPE),
    Migration("0008_memories_by_occurred_at", _MEMORIES_BY_OCCURRED_AT),
    Migration("0009_keyword_totals", _KEYWORD_TOTALS),
    Migration("0010_vector_release", _VECTOR_RELEASE),
    Migration("0011_key_roles", _KEY_ROLES),
    Migration("0012_vector_space", _VECTOR_SPACE),
    Migration("0013_keyword_text", _KEYWORD_TEXT),
)


def migrate(conn: sqlite3.Connection, analyser: KeywordAnalyser | None = None) -> list[str]:
    """Apply the missing steps in order, one transaction each; return the names applied now. Chunks
    are (re-)analysed for keyword search with ``analyser`` (English stemming if not given)."""
    analyser = analyser or KeywordAnalyser()
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.create_function(_SCOPE_KEY_FUNCTION, 4, scope_key, deterministic=True)
    conn.create_function(_KEYWORD_TEXT_FUNCTION, 1, analyser.text, deterministic=True)
    conn.create_function(_ANALYSER_FUNCTION, 0, lambda: analyser.name)
    _refuse_newer_schema(conn)
    applied = [step.name for step in MIGRATIONS if _apply(conn, step)]
    _use_analyser(conn, analyser.name)
    return applied


def _use_analyser(conn: sqlite3.Connection, name: str) -> None:
    """Re-analyse every chunk if the store's chunks were indexed by another analyser than ``name`` (the
    setting changed): searches analyse their words with ``name``, and must find what they look for."""
    has_settings = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'store_settings'").fetchone()
    if has_settings:
        use_analyser(conn, name, lambda: _immediate(conn), lambda: _run(conn, _REANALYSE))


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction holding the file's write lock from its start; rolled back if the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _run(conn: sqlite3.Connection, statements: tuple[str, ...]) -> None:
    for statement in statements:
        conn.execute(statement)


def _refuse_newer_schema(conn: sqlite3.Connection) -> None:
    """A file migrated by a newer memhub has tables and triggers this version does not know how to keep
    consistent (writing to it could corrupt derived state such as the FTS index): refuse it."""
    known = {step.name for step in MIGRATIONS}
    unknown = [name for name in applied_migrations(conn) if name not in known]
    if unknown:
        raise Unavailable(
            f"this store was upgraded by a newer memhub (schema steps {', '.join(unknown)});"
            " upgrade memhub to open it, or restore a backup made with this version"
        )


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def _apply(conn: sqlite3.Connection, step: Migration) -> bool:
    with _immediate(conn):
        if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (step.name,)).fetchone():
            return False
        _run(conn, step.statements)
        now = encode_time(datetime.now(timezone.utc))
        conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (step.name, now))
    return True
