"""The SQLite store's in-memory vector index: loading a tenant's vectors from the file in batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.sqlite import vectors as sqlite_vectors

from .contract import MODEL, Writer


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memhub.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{db_path}")
    yield store
    store.close()


def test_a_load_in_many_batches_finds_the_exact_neighbours(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_vectors, "LOAD_BATCH", 3)
    w = Writer(store)
    a, space = w.tenant("a")
    b, other_space = w.tenant("b")
    got = w.memorise(a, space, [f"a {i}" for i in range(11)], user_id="alice")
    w.memorise(b, other_space, [f"b {i}" for i in range(4)])
    fresh = open_store(f"sqlite:///{db_path}")  # a new process: loads the tenant whole, 3 rows a step
    try:
        for chunk_id in got.chunk_ids[:3]:
            query = got.vectors[chunk_id]
            hits = fresh.vector_search(Scope(tenant_id=a), None, MODEL, query, 5)
            by_score = sorted(got.chunk_ids, key=lambda c: -float(got.vectors[c] @ query))
            assert [h.chunk_id for h in hits] == by_score[:5]
            np.testing.assert_allclose(
                [h.score for h in hits], [float(got.vectors[c] @ query) for c in by_score[:5]], atol=1e-5
            )
        more = w.memorise(a, space, [f"later {i}" for i in range(4)], user_id="alice")  # caught up, batched
        query = more.vectors[more.chunk_ids[2]]
        assert fresh.vector_search(Scope(tenant_id=a), None, MODEL, query, 1)[0].chunk_id == more.chunk_ids[2]
        assert len(fresh.vector_search(Scope(tenant_id=a), None, MODEL, query, 100)) == 15
    finally:
        fresh.close()


def test_dense_hits_carry_their_stored_vectors_to_the_bit(store: Store, db_path: Path) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, [f"a {i}" for i in range(9)])
    fresh = open_store(f"sqlite:///{db_path}")  # loaded from the file, not from the writer's vectors
    try:
        hits = fresh.vector_search(Scope(tenant_id=a), None, MODEL, got.vectors[got.chunk_ids[4]], 9)
        stored = fresh.chunk_vectors(MODEL, got.chunk_ids)
        assert len(hits) == 9
        for hit in hits:
            assert hit.vector is not None
            assert np.array_equal(hit.vector, stored[hit.chunk_id])
    finally:
        fresh.close()
