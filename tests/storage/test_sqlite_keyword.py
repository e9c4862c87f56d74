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
