"""The SQLite store: the contract suite, plus what only an embedded file store has to get right —
migrations, WAL, several stores (threads, processes) on one file, durability across ``kill -9``."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from memhub.core.errors import InvalidInput, Unavailable
from memhub.core.filters import parse_filter
from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import SqliteStore, open_store
from memhub.storage.sqlite import schema as sqlite_schema
from memhub.storage.sqlite import vectors as sqlite_vectors
from memhub.storage.sqlite.schema import MIGRATIONS

from .contract import MODEL, StoreContract, Writer, at


def url(path: Path) -> str:
    return f"sqlite:///{path}"


class TestSqliteContract(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = open_store(url(tmp_path / "memhub.db"))
        yield store
        store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "memhub.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = open_store(url(db_path))
    yield store
    store.close()


def read_sql(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- opening ----------------------------------------------------------------------------------------
def test_migrations_are_recorded_once_in_order(store: Store, db_path: Path) -> None:
    names = [row[0] for row in read_sql(db_path, "SELECT name FROM migrations ORDER BY rowid")]
    assert names == [m.name for m in MIGRATIONS]
    store.close()
    open_store(url(db_path)).close()  # reopening applies nothing new
    assert read_sql(db_path, "SELECT count(*) FROM migrations") == [(len(MIGRATIONS),)]


def test_a_file_from_a_newer_memhub_is_refused_untouched(store: Store, db_path: Path) -> None:
    store.close()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO migrations VALUES ('9999_from_the_future', '2030-01-01T00:00:00Z')")
    conn.close()
    with pytest.raises(Unavailable, match="newer memhub"):
        open_store(url(db_path))
    assert read_sql(db_path, "SELECT count(*) FROM migrations") == [(len(MIGRATIONS) + 1,)]


def test_file_is_in_wal_mode_with_foreign_keys(store: Store, db_path: Path) -> None:
    assert read_sql(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert isinstance(store, SqliteStore) and store.path == db_path


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///relative/dir/m.db?synchronous=full&busy_timeout_ms=100").close()
    assert (tmp_path / "relative" / "dir" / "m.db").exists()
    for bad in (
        "sqlite:///:memory:",
        "sqlite://host/x.db",
        "sqlite:///x.db?synchronous=off",
        "sqlite:///x.db?busy_timeout_ms=soon",
        "sqlite:///x.db?journal=delete",
        "mysql://x",
    ):
        with pytest.raises(InvalidInput):
            open_store(bad)


def test_deleting_a_memory_removes_its_fts_rows(store: Store, db_path: Path) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["alpha beta", "gamma"])
    store.delete_memory(a, got.memory_ids[0])
    fts = read_sql(db_path, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'alpha'")
    assert fts == []
    assert read_sql(db_path, "SELECT count(*) FROM chunks") == [(1,)]


def test_a_file_from_before_scope_tokens_is_migrated_and_searches_by_scope(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = next(i for i, step in enumerate(MIGRATIONS) if step.name == "0007_fts_scope")
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", MIGRATIONS[:before])
    old = open_store(url(db_path))
    tenant, space = Writer(old).tenant("a")
    old.close()
    conn = sqlite3.connect(db_path)  # chunks as the older schema wrote them: no scope_key column
    with conn:
        for rid, user in ((1, "alice"), (2, "bob")):
            conn.execute("INSERT INTO users VALUES (?, ?, '2024-01-01T00:00:00.000000Z')", (tenant, user))
            conn.execute(
                "INSERT INTO memories (id, tenant_id, space_id, user_id, kind, core, text, metadata,"
                " occurred_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'episode', 0, 'lisbon trip',"
                " '{}', '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z',"
                " '2024-01-01T00:00:00.000000Z')",
                (f"m{rid}", tenant, space, user),
            )
            conn.execute(
                "INSERT INTO chunks (id, memory_rid, ordinal, text, dense_key, sparse_key)"
                " VALUES (?, (SELECT rid FROM memories WHERE id = ?), 0, 'lisbon trip', 'x', 'lisbon trip')",
                (f"c{rid}", f"m{rid}"),
            )
    conn.close()
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", MIGRATIONS)

    store = open_store(url(db_path))
    try:
        hits = store.keyword_search(Scope(tenant_id=tenant, user_id="bob"), None, "lisbon", 10)
        assert [hit.memory_id for hit in hits] == ["m2"]
        everyone = store.keyword_search(Scope(tenant_id=tenant), None, "lisbon", 10)
        assert sorted(hit.memory_id for hit in everyone) == ["m1", "m2"]
    finally:
        store.close()


# --- several stores on one file --------------------------------------------------------------------
def test_a_second_store_sees_writes_and_the_first_index_follows(store: Store, db_path: Path) -> None:
    w1 = Writer(store, seed=1)
    a, space = w1.tenant("a")
    first = w1.memorise(a, space, [f"one {i}" for i in range(5)], user_id="alice")
    query = first.vectors[first.chunk_ids[0]]
    scope = Scope(tenant_id=a, user_id="alice")
    assert len(store.vector_search(scope, None, MODEL, query, 100)) == 5  # index built

    other = open_store(url(db_path))  # another process, as far as the file is concerned
    try:
        w2 = Writer(other, seed=2)
        w2.seconds = 10_000
        assert other.get_memory(a, first.memory_ids[0]).text == "one 0"
        added = w2.memorise(a, space, [f"two {i}" for i in range(3)], user_id="alice")
        replaced = w2.memorise(a, space, ["three"], user_id="alice", supersede={first.memory_ids[1]: 0})
        other.delete_memory(a, first.memory_ids[2])
        other.update_memory_metadata(a, first.memory_ids[3], {"tag": "x"}, at(20_000))
    finally:
        other.close()

    hits = {h.memory_id for h in store.vector_search(scope, None, MODEL, query, 100)}
    expected = (set(first.memory_ids) - {first.memory_ids[1], first.memory_ids[2]}) | set(added.memory_ids)
    assert hits == expected | set(replaced.memory_ids)
    tagged = store.vector_search(scope, parse_filter({"tag": "x"}), MODEL, query, 100)
    assert [h.memory_id for h in tagged] == [first.memory_ids[3]]


def test_index_reloads_when_deletions_outran_the_tombstones(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_vectors, "TOMBSTONES_KEPT", 2)
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, [f"m{i}" for i in range(12)])
    query = got.vectors[got.chunk_ids[0]]
    assert len(store.vector_search(Scope(tenant_id=a), None, MODEL, query, 100)) == 12
    other = open_store(url(db_path))
    try:
        for memory_id in got.memory_ids[:9]:
            other.delete_memory(a, memory_id)
    finally:
        other.close()
    floor = read_sql(db_path, "SELECT value FROM meta WHERE key = 'tombstone_floor'")[0][0]
    assert isinstance(floor, int) and floor > 0
    hits = store.vector_search(Scope(tenant_id=a), None, MODEL, query, 100)
    assert {h.memory_id for h in hits} == set(got.memory_ids[9:])


def test_threads_write_and_read_concurrently(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            mine = Writer(store, seed=100 + n)
            mine.seconds = 1000 * (n + 1)
            for batch in range(8):
                mine.memorise(
                    a, space, [f"thread {n} batch {batch} item {i}" for i in range(5)], user_id=f"u{n}"
                )
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    def reader() -> None:
        try:
            rng = np.random.default_rng(7)
            for _ in range(60):
                query = rng.standard_normal(8).astype(np.float32)
                store.vector_search(Scope(tenant_id=a), None, MODEL, query, 5)
                store.keyword_search(Scope(tenant_id=a), None, "thread batch", 5)
                store.list_memories(Scope(tenant_id=a), None, None, 20)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counts(a).memories == 3 * 8 * 5
    hits = store.vector_search(
        Scope(tenant_id=a, user_id="u1"), None, MODEL, np.ones(8, dtype=np.float32), 500
    )
    assert len(hits) == 40


# --- other processes ----------------------------------------------------------------------------------
_CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from storage.contract import Writer
    from memhub.storage import open_store

    store = open_store({url!r})
    w = Writer(store, seed=3)
    w.seconds = 50_000
    tenant, space = w.tenant("a")
    got = w.memorise(tenant, space, ["written by the child"], user_id="alice")
    print(got.memory_ids[0], flush=True)
    time.sleep({linger})
    """
)


def _run_child(db_path: Path, linger: float) -> subprocess.Popen[str]:
    tests_dir = str(Path(__file__).resolve().parents[1])
    code = _CHILD.format(tests=tests_dir, url=url(db_path), linger=linger)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_memory_written_by_another_process_is_found(store: Store, db_path: Path) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    mine = w.memorise(a, space, ["written by the parent"], user_id="alice")
    query = mine.vectors[mine.chunk_ids[0]]
    assert len(store.vector_search(Scope(tenant_id=a), None, MODEL, query, 10)) == 1
    child = _run_child(db_path, linger=0)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    hits = store.vector_search(Scope(tenant_id=a), None, MODEL, query, 10)
    assert {h.memory_id for h in hits} == {mine.memory_ids[0], out.strip()}
    assert store.keyword_search(Scope(tenant_id=a), None, "child", 10)[0].memory_id == out.strip()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_acknowledged_writes_survive_kill_9(db_path: Path) -> None:
    open_store(url(db_path)).close()
    child = _run_child(db_path, linger=60)
    assert child.stdout is not None
    memory_id = child.stdout.readline().strip()  # complete_job returned: the write is acknowledged
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    reopened = open_store(url(db_path))
    try:
        tenant = reopened.find_tenant("a")
        assert tenant is not None
        assert reopened.get_memory(tenant.id, memory_id).text == "written by the child"
    finally:
        reopened.close()
