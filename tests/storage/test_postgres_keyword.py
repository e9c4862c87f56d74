"""PostgreSQL keyword search beyond the contract: the term statistics its BM25 reads stay exact through
every way chunks come and go, an existing database gains them on upgrade, and the bounded candidate
paths (rare words first, a capped look further) keep scope, filters and rare-word hits exact."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from memhub.core.filters import parse_filter
from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.postgres import keyword as postgres_keyword
from memhub.storage.postgres import schema as postgres_schema
from memhub.storage.postgres.db import parse_postgres_url

from .contract import Writer


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def assert_stats_match_chunks(pg_url: str) -> None:
    """What the triggers kept equals a recount from the chunks themselves."""
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        kept = conn.execute(
            "SELECT term, sum(df)::bigint FROM keyword_terms GROUP BY term HAVING sum(df) <> 0 ORDER BY term"
        ).fetchall()
        counted = conn.execute(
            "SELECT u.lexeme, count(*) FROM chunks, unnest(chunks.tsv) AS u GROUP BY u.lexeme ORDER BY 1"
        ).fetchall()
        totals = conn.execute(
            "SELECT coalesce(sum(chunks), 0)::bigint, coalesce(sum(lexemes), 0)::bigint FROM keyword_totals"
        ).fetchone()
        recount = conn.execute(
            "SELECT count(*), coalesce(sum(length(tsv)), 0)::bigint FROM chunks"
        ).fetchone()
    assert kept == counted
    assert totals == recount


def test_term_stats_follow_every_write_and_cascading_delete(pg_url: str, store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    b, space_b = w.tenant("b")
    other_space = w.space(a, "other")
    memo = w.memorise(a, space, ["apple pie recipe", "apple tart", "kiwi jam"], user_id="u1")
    w.memorise(a, space, ["session apple talk"], user_id="u1", session_id="s1")
    w.memorise(a, space, ["bob's apple orchard"], user_id="u2")
    w.memorise(a, other_space, ["apple in another space"])
    w.memorise(b, space_b, ["tenant b apple kiwi"])
    assert_stats_match_chunks(pg_url)
    store.delete_memory(a, memo.memory_ids[0])
    assert_stats_match_chunks(pg_url)
    assert store.delete_session(a, "s1") > 0
    assert_stats_match_chunks(pg_url)
    assert store.delete_user(a, "u2") > 0
    assert_stats_match_chunks(pg_url)
    store.delete_space(a, other_space)
    assert_stats_match_chunks(pg_url)
    hits = store.keyword_search(Scope(tenant_id=a), None, "apple kiwi", 10)
    assert {h.memory_id for h in hits} == set(memo.memory_ids[1:])


@pytest.mark.parametrize(
    "missing",
    [
        {"0007_keyword_term_stats", "0008_keyword_stats_per_tenant"},  # before any statistics
        {"0008_keyword_stats_per_tenant"},  # statistics shared by every tenant
    ],
)
def test_an_existing_database_gains_per_tenant_term_stats_on_upgrade(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, missing: set[str]
) -> None:
    first = min(i for i, step in enumerate(postgres_schema.MIGRATIONS) if step[0] in missing)
    # An older memhub knew none of the later steps either; only the reindex table is kept, since this
    # version's writer (used here to fill the old database) reads it on every write.
    before = tuple(
        step
        for i, step in enumerate(postgres_schema.MIGRATIONS)
        if i < first or step[0] == "0011_vector_space"
    )
    monkeypatch.setattr(postgres_schema, "MIGRATIONS", before)
    old = open_store(pg_url)  # a database as an older memhub left it
    w = Writer(old)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["weekly project meeting", "project meeting notes", "zanzibar trip plan"])
    old.close()
    monkeypatch.undo()
    upgraded = open_store(pg_url)
    try:
        assert_stats_match_chunks(pg_url)
        hits = upgraded.keyword_search(Scope(tenant_id=a), None, "project zanzibar", 10)
        assert hits[0].memory_id == got.memory_ids[2]
        Writer(upgraded).memorise(a, space, ["zanzibar again"])  # the triggers count from now on
        assert_stats_match_chunks(pg_url)
    finally:
        upgraded.close()


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budget and cap small enough that a dozen chunks take the bounded paths."""
    monkeypatch.setattr(postgres_keyword, "CANDIDATE_BUDGET", 3)
    monkeypatch.setattr(postgres_keyword, "CANDIDATE_CAP", 4)


@pytest.mark.usefixtures("small_bounds")
def test_bounded_tenant_search_keeps_rare_hits_first_and_scope_exact(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    b, space_b = w.tenant("b")
    w.memorise(b, space_b, ["kiwi kiwi from another tenant", "kiwi again elsewhere"])
    common = w.memorise(a, space, [f"apple note {i}" for i in range(12)])
    rare = w.memorise(a, space, ["apple with kiwi"], metadata=[{"keep": False}])
    hits = store.keyword_search(Scope(tenant_id=a), None, "apple kiwi", 10)
    # "kiwi" (3 chunks) picks candidates; "apple" (13) is only looked at through the cap of 4 more.
    assert hits[0].memory_id == rare.memory_ids[0]
    assert 1 < len(hits) <= 5 and {h.memory_id for h in hits[1:]} <= set(common.memory_ids)
    assert all(h.score > 0 for h in hits) and hits[0].score > hits[1].score
    flt = parse_filter({"keep": {"$ne": False}})
    filtered = store.keyword_search(Scope(tenant_id=a), flt, "apple kiwi", 10)
    assert filtered and rare.memory_ids[0] not in {h.memory_id for h in filtered}
    assert store.keyword_search(Scope(tenant_id=b), None, "apple", 10) == []


@pytest.mark.usefixtures("small_bounds")
def test_bounded_user_search_finds_the_rare_hit_beyond_the_cap(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    common = w.memorise(a, space, [f"apple note {i}" for i in range(8)], user_id="u1")
    rare = w.memorise(a, space, ["apple and kiwi"], user_id="u1")
    w.memorise(a, space, ["kiwi for someone else"], user_id="u2")
    hits = store.keyword_search(Scope(tenant_id=a, user_id="u1"), None, "apple kiwi", 3)
    assert hits[0].memory_id == rare.memory_ids[0]
    assert len(hits) == 3 and {h.memory_id for h in hits[1:]} <= set(common.memory_ids)
    few = store.keyword_search(Scope(tenant_id=a, user_id="u2"), None, "apple kiwi", 3)
    assert [h.memory_id for h in few] != [] and len(few) == 1


def test_words_no_chunk_holds_are_left_out_of_the_query(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["mail about the harbour", "nothing else"])
    assert store.keyword_search(Scope(tenant_id=a), None, "nowhere seen", 10) == []
    hits = store.keyword_search(Scope(tenant_id=a), None, "nowhere harbour unseen", 10)
    assert [h.memory_id for h in hits] == [got.memory_ids[0]]


# --- the analyser: stored chunks follow it (sql/analysis.py, postgres/analysis.py) ------------------
def _found(store: Store, tenant: str, query: str) -> list[str]:
    return [hit.memory_id for hit in store.keyword_search(Scope(tenant_id=tenant), None, query, 10)]


def _no_zero_terms(pg_url: str) -> None:
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        zero = conn.execute("SELECT term FROM keyword_terms GROUP BY tenant_id, term HAVING sum(df) = 0")
        assert zero.fetchall() == []


def test_a_database_indexed_before_stemming_is_reanalysed_and_finds_other_word_forms(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = next(i for i, step in enumerate(postgres_schema.MIGRATIONS) if step[0] == "0012_keyword_analysis")
    monkeypatch.setattr(postgres_schema, "MIGRATIONS", postgres_schema.MIGRATIONS[:first])
    old = open_store(pg_url)
    w = Writer(old)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["We went camping by the lake", "Café books and more books"])
    old.close()
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:  # tsv as the older memhub wrote it: the folded text parsed
        conn.execute("UPDATE chunks SET tsv = to_tsvector('simple', lower(sparse_key))")
        assert conn.execute("SELECT 1 FROM chunks WHERE tsv @@ 'camp'::tsquery").fetchall() == []
    monkeypatch.undo()

    store = open_store(pg_url)
    try:
        assert _found(store, a, "camping") == _found(store, a, "camped") == [got.memory_ids[0]]
        assert _found(store, a, "book") == [got.memory_ids[1]]
        assert_stats_match_chunks(pg_url)
        _no_zero_terms(pg_url)  # the unstemmed forms' rows are gone, not left at zero
    finally:
        store.close()


def test_changing_the_stemmer_reanalyses_the_stored_chunks(pg_url: str) -> None:
    first = open_store(pg_url, "english")
    w = Writer(first)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["We went camping by the lake"])
    first.close()
    for stemmer, camped in (("none", []), ("english", got.memory_ids)):
        store = open_store(pg_url, stemmer)
        try:
            assert _found(store, a, "camped") == camped
            assert _found(store, a, "camping") == got.memory_ids
            assert_stats_match_chunks(pg_url)
            _no_zero_terms(pg_url)
        finally:
            store.close()
