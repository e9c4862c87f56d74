"""Keyword search's rank-first plan and its pruning of common words: the same hits as ranking every
match, and the scope kept exactly."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from memhub.core.models import Scope
from memhub.core.ports import ChunkHit, Store
from memhub.storage import open_store
from memhub.storage.sqlite import keyword_rank as sqlite_keyword_rank

from .contract import Writer


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memhub.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{db_path}")
    yield store
    store.close()


def unpruned(
    store: Store, monkeypatch: pytest.MonkeyPatch, scope: Scope, text: str, limit: int
) -> list[ChunkHit]:
    with monkeypatch.context() as patch:
        patch.setattr(sqlite_keyword_rank, "MIN_COMMON_DF", 10**9)
        return store.keyword_search(scope, None, text, limit)


def assert_same(got: list[ChunkHit], expected: list[ChunkHit]) -> None:
    assert [h.chunk_id for h in got] == [h.chunk_id for h in expected]
    assert [h.score for h in got] == pytest.approx([h.score for h in expected], rel=1e-9)


def corpus(w: Writer, tenant: str, space: str) -> list[str]:
    """Common words (project, meeting, notes) in most chunks; rarer ones (zanzibar, budget) in a few."""
    texts = [f"project meeting notes {i}" for i in range(24)]
    texts += [
        "zanzibar trip",
        "project zanzibar budget",
        "meeting about the budget",
        "zanzibar zanzibar notes",
    ]
    texts += ["budget project meeting meeting notes", "notes on the zanzibar project meeting"]
    return w.memorise(tenant, space, texts).memory_ids


def test_a_query_mixing_common_and_rare_words_is_pruned_yet_ranks_as_every_match(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_keyword_rank, "MIN_COMMON_DF", 5)
    w = Writer(store)
    a, space = w.tenant("a")
    corpus(w, a, space)
    conn = sqlite3.connect(db_path)
    try:
        assert sqlite_keyword_rank.split_common(conn, ["project", "zanzibar", "meeting", "budget"]) == (
            ["zanzibar", "budget"],
            ["project", "meeting"],
        )
        assert sqlite_keyword_rank.split_common(conn, ["zanzibar", "budget"]) is None  # nothing common
        assert sqlite_keyword_rank.split_common(conn, ["project", "meeting"]) is None  # nothing rarer
    finally:
        conn.close()
    scope = Scope(tenant_id=a)
    for text, limit in [
        ("project zanzibar meeting budget", 3),
        ("Zanzibar project notes?", 2),
        ("budget notes", 4),
    ]:
        assert_same(
            store.keyword_search(scope, None, text, limit), unpruned(store, monkeypatch, scope, text, limit)
        )


def test_when_every_word_is_common_the_threshold_rises_to_leave_out_the_commonest(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_keyword_rank, "MIN_COMMON_DF", 2)
    w = Writer(store)
    a, space = w.tenant("a")
    corpus(w, a, space)  # project, meeting, notes: > 8 chunks each; zanzibar, budget: 3-4 chunks
    conn = sqlite3.connect(db_path)
    try:
        assert sqlite_keyword_rank.split_common(conn, ["meeting", "budget"]) == (["budget"], ["meeting"])
        monkeypatch.setattr(sqlite_keyword_rank, "RAISES", 0)
        assert sqlite_keyword_rank.split_common(conn, ["meeting", "budget"]) is None
    finally:
        conn.close()
    monkeypatch.setattr(sqlite_keyword_rank, "RAISES", 2)
    scope = Scope(tenant_id=a)
    assert_same(
        store.keyword_search(scope, None, "meeting budget", 3),
        unpruned(store, monkeypatch, scope, "meeting budget", 3),
    )


def test_chunks_with_only_common_words_fill_the_page_when_rarer_ones_run_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_keyword_rank, "MIN_COMMON_DF", 5)
    w = Writer(store)
    a, space = w.tenant("a")
    corpus(w, a, space)
    scope = Scope(tenant_id=a)
    hits = store.keyword_search(scope, None, "zanzibar meeting", 12)
    assert len(hits) == 12
    assert_same(hits, unpruned(store, monkeypatch, scope, "zanzibar meeting", 12))


def test_pruned_and_rank_first_searches_keep_tenant_space_and_superseded_exact(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_keyword_rank, "MIN_COMMON_DF", 30)
    w = Writer(store)
    a, space = w.tenant("a")
    b, b_space = w.tenant("b")
    other_space = w.space(a, "other")
    # tenant b outranks a on every query: its chunks repeat the rarer word
    foreign = w.memorise(b, b_space, ["kiwi kiwi kiwi project"] * 20 + ["project meeting"] * 20).memory_ids
    mine = corpus(w, a, space)
    mine += w.memorise(a, space, ["kiwi project plan", "kiwi budget", "kiwi project meeting"]).memory_ids
    elsewhere = w.memorise(a, other_space, ["kiwi kiwi project meeting"]).memory_ids[0]
    replaced = w.memorise(a, space, ["kiwi project plan, revised"], supersede={mine[-3]: 0}).memory_ids[0]
    conn = sqlite3.connect(db_path)
    try:
        assert sqlite_keyword_rank.split_common(conn, ["kiwi", "project"]) == (["kiwi"], ["project"])
    finally:
        conn.close()
    for text in ("kiwi project", "project"):  # pruned, then rank-first without pruning
        for limit in (2, 10):  # the rarer word's chunks fill the page, then they do not
            tenant_hits = store.keyword_search(Scope(tenant_id=a), None, text, limit)
            assert len(tenant_hits) == limit
            assert_same(tenant_hits, unpruned(store, monkeypatch, Scope(tenant_id=a), text, limit))
            found = {h.memory_id for h in tenant_hits}
            assert not found & set(foreign) and mine[-3] not in found  # other tenant, superseded
        in_space = store.keyword_search(Scope(tenant_id=a, space_ids=[space]), None, text, 50)
        assert {h.memory_id for h in in_space} <= {*mine, replaced} - {mine[-3]}
        assert elsewhere in {h.memory_id for h in store.keyword_search(Scope(tenant_id=a), None, text, 50)}
    history = Scope(tenant_id=a, include_superseded=True)
    assert mine[-3] in {h.memory_id for h in store.keyword_search(history, None, "kiwi project plan", 10)}
