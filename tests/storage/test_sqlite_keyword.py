"""SQLite keyword search beyond the contract: BM25 with the tenant's own statistics (another tenant's
chunks move no score), the per-tenant totals its triggers keep, and the bounded candidate paths (rare
words first, a capped look further) keeping scope and filters exact."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from memhub.core.filters import parse_filter
from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.sqlite import keyword as sqlite_keyword
from memhub.storage.sqlite import schema as sqlite_schema
from memhub.storage.sqlite.fts import scope_key
from memhub.storage.sqlite.schema import MIGRATIONS

from .contract import Writer


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memhub.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{db_path}")
    yield store
    store.close()


def test_scores_ignore_other_tenants_chunks(store: Store) -> None:
    w = Writer(store)
    a, space_a = w.tenant("a")
    b, space_b = w.tenant("b")
    w.memorise(b, space_b, ["note zanzibarquix", "note florptangle", "another note entirely"])
    before = store.keyword_search(Scope(tenant_id=b), None, "zanzibarquix florptangle note", 10)
    w.memorise(a, space_a, [f"Zanzibarquix {i} note note" for i in range(6)] + ["florptangle " * 40])
    after = store.keyword_search(Scope(tenant_id=b), None, "zanzibarquix florptangle note", 10)
    assert after == before and len(before) == 3


def test_per_tenant_totals_follow_writes_and_deletes(store: Store, db_path: Path) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["one two three", "four five"])

    def totals() -> list[tuple[int, int]]:
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT chunks, length FROM keyword_totals").fetchall()

    assert totals() == [(2, len("one two three") + len("four five"))]
    store.delete_memory(a, got.memory_ids[0])
    assert totals() == [(1, len("four five"))]
    store.delete_memory(a, got.memory_ids[1])
    assert totals() == []


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budget and cap small enough that a dozen chunks take the bounded paths."""
    monkeypatch.setattr(sqlite_keyword, "CANDIDATE_BUDGET", 3)
    monkeypatch.setattr(sqlite_keyword, "CANDIDATE_CAP", 4)


@pytest.mark.usefixtures("small_bounds")
def test_bounded_search_keeps_rare_hits_first_and_scope_exact(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    b, space_b = w.tenant("b")
    w.memorise(b, space_b, ["kiwi kiwi from another tenant", "kiwi again elsewhere"])
    common = w.memorise(a, space, [f"apple note {i}" for i in range(12)])
    rare = w.memorise(a, space, ["apple with kiwi"], metadata=[{"keep": False}])
    hits = store.keyword_search(Scope(tenant_id=a), None, "apple kiwi", 10)
    # "kiwi" (1 chunk of A) picks candidates; "apple" (13) is only looked at through the cap of 4 more.
    assert hits[0].memory_id == rare.memory_ids[0]
    assert 1 < len(hits) <= 5 and {h.memory_id for h in hits[1:]} <= set(common.memory_ids)
    assert all(h.score > 0 for h in hits) and hits[0].score > hits[1].score
    flt = parse_filter({"keep": {"$ne": False}})
    filtered = store.keyword_search(Scope(tenant_id=a), flt, "apple kiwi", 10)
    assert filtered and rare.memory_ids[0] not in {h.memory_id for h in filtered}
    assert store.keyword_search(Scope(tenant_id=b), None, "apple", 10) == []


# --- the analyser: stored chunks follow it (sql/analysis.py) ---------------------------------------
def _found(store: Store, tenant: str, query: str) -> list[str]:
    return [hit.memory_id for hit in store.keyword_search(Scope(tenant_id=tenant), None, query, 10)]


def _fts_is_consistent(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:  # FTS5 compares its index with what the content table's keyword_text says it should hold
        conn.execute("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def test_a_store_indexed_before_stemming_is_reanalysed_and_finds_other_word_forms(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = next(i for i, step in enumerate(MIGRATIONS) if step.name == "0013_keyword_text")
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", MIGRATIONS[:before])
    old = open_store(f"sqlite:///{db_path}")
    tenant, space = Writer(old).tenant("a")
    old.close()
    conn = sqlite3.connect(db_path)  # chunks as the older schema wrote them: FTS5 over sparse_key itself
    with conn:
        for i, text in enumerate(["We went camping by the lake", "Café books and more books"]):
            conn.execute(
                "INSERT INTO memories (id, tenant_id, space_id, kind, core, text, metadata, occurred_at,"
                " created_at, updated_at) VALUES (?, ?, ?, 'episode', 0, ?, '{}', ?, ?, ?)",
                (f"m{i}", tenant, space, text, *["2024-01-01T00:00:00.000000Z"] * 3),
            )
            conn.execute(
                "INSERT INTO chunks (id, memory_rid, ordinal, text, dense_key, sparse_key, scope_key)"
                " VALUES (?, (SELECT rid FROM memories WHERE id = ?), 0, ?, ?, ?, ?)",
                (f"c{i}", f"m{i}", text, text, text, scope_key(tenant, space, None, None)),
            )
    assert conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'camped'").fetchall() == []
    conn.close()
    monkeypatch.undo()

    store = open_store(f"sqlite:///{db_path}")
    try:
        assert _found(store, tenant, "camping") == _found(store, tenant, "camped") == ["m0"]
        assert _found(store, tenant, "book") == _found(store, tenant, "CAFE") == ["m1"]
        _fts_is_consistent(db_path)
        store.delete_memory(tenant, "m0")  # the delete trigger hands FTS5 the analysed text it indexed
        _fts_is_consistent(db_path)
        assert _found(store, tenant, "camping") == []
    finally:
        store.close()


def test_changing_the_stemmer_reanalyses_the_stored_chunks(db_path: Path) -> None:
    first = open_store(f"sqlite:///{db_path}", "english")
    w = Writer(first)
    tenant, space = w.tenant("a")
    got = w.memorise(tenant, space, ["We went camping by the lake"])
    first.close()
    for stemmer, camped in (("none", []), ("english", got.memory_ids)):
        store = open_store(f"sqlite:///{db_path}", stemmer)
        try:
            assert _found(store, tenant, "camped") == camped
            assert _found(store, tenant, "camping") == got.memory_ids
            _fts_is_consistent(db_path)
            assert read_setting(db_path) == stemmer
        finally:
            store.close()


def read_setting(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return str(
            conn.execute("SELECT value FROM store_settings WHERE key = 'keyword_analyser'").fetchone()[0]
        )
    finally:
        conn.close()


@pytest.mark.parametrize(
    "text",
    [
        "ha ha ha kid",  # the same word several times in a row
        "kidney skid kid kids",  # query words inside other tokens count only whole
        "kid",  # alone: at both ends at once
        "camp kid camp tent kid kid",  # several words, first seen in another order than asked
        "nothing here",
        "",
    ],
)
def test_single_word_scores_equal_the_whole_token_pattern_to_the_bit(text: str) -> None:
    stats = sqlite_keyword.TenantStats(
        chunks=50, mean_length=20.0, df={"tent": 3, "kid": 7, "ha": 2, "camp": 9}
    )
    scorer = sqlite_keyword._Scorer(stats)
    norm = sqlite_keyword.K1 * (1 - sqlite_keyword.B + sqlite_keyword.B * len(text) / stats.mean_length)
    assert scorer(text, len(text)) == scorer.by_pattern(text, norm)
