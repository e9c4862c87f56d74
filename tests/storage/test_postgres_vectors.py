"""PostgreSQL vector search beyond the contract: HNSW indexes are built with the tuned parameters, and a
wide scope's index walk (with its session settings) finds what the exact scan finds."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.postgres import vectors as postgres_vectors
from memhub.storage.postgres.db import parse_postgres_url

from .contract import MODEL, Writer


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def test_a_new_model_gets_an_hnsw_index_with_the_tuned_parameters(store: Store, pg_url: str) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    w.memorise(a, space, ["one"])
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        (definition,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'chunk_vectors_hnsw_%'"
        ).fetchone() or ("",)
    assert "USING hnsw" in definition and f"'{MODEL}'" in definition
    assert f"m='{postgres_vectors.HNSW_M}'" in definition
    assert f"ef_construction='{postgres_vectors.HNSW_EF_CONSTRUCTION}'" in definition


def test_a_wide_scope_takes_the_index_walk_and_finds_the_exact_hits(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    b, b_space = w.tenant("b")  # another tenant's memories must stay out of a's hits
    w.memorise(b, b_space, [f"b{i}" for i in range(100)], user_id="bob")
    w.memorise(a, space, [f"a{i}" for i in range(150)], user_id="alice")
    scope = Scope(tenant_id=a)
    queries = [w.unit() for _ in range(10)]
    exact = [store.vector_search(scope, None, MODEL, q, 10) for q in queries]  # 150 < EXACT_MAX
    walks: list[int] = []
    approximate = postgres_vectors._approximate
    monkeypatch.setattr(postgres_vectors, "EXACT_MAX", 100)
    monkeypatch.setattr(postgres_vectors, "_approximate", lambda *args: walks.append(1) or approximate(*args))
    for query, truth in zip(queries, exact, strict=True):
        hits = store.vector_search(scope, None, MODEL, query, 10)
        assert [h.chunk_id for h in hits] == [h.chunk_id for h in truth]
    assert len(walks) == len(queries)
