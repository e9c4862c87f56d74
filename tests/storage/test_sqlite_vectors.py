"""The SQLite store's in-memory vector index: loading a tenant's vectors from the file in batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memhub.core.models import Scope
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.sqlite import store as sqlite_store
from memhub.storage.sqlite import vectors as sqlite_vectors
from memhub.storage.sqlite.vector_index import MemoryRecord, VectorIndex

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


def test_a_tenants_indexed_vectors_are_read_from_its_index_and_the_rest_from_the_file(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, [f"a {i}" for i in range(6)])
    fresh = open_store(f"sqlite:///{db_path}")
    read_from_file: list[list[str]] = []
    real = sqlite_store.fetch_chunk_vectors

    def recorded(conn: Any, model_id: str, chunk_ids: Sequence[str]) -> dict[str, Any]:
        read_from_file.append(list(chunk_ids))
        return real(conn, model_id, chunk_ids)

    monkeypatch.setattr(sqlite_store, "fetch_chunk_vectors", recorded)
    try:
        fresh.vector_search(Scope(tenant_id=a), None, MODEL, got.vectors[got.chunk_ids[0]], 1)  # loaded
        later = w.memorise(a, space, ["written after the index loaded"])  # it catches up first
        wanted = [*got.chunk_ids, *later.chunk_ids]
        vectors = fresh.chunk_vectors(MODEL, [*wanted, "unknown"], a)
        assert read_from_file == [["unknown"]]
        assert list(vectors) == wanted
        for chunk_id in wanted:
            assert vectors[chunk_id].tobytes() == real_vector(db_path, chunk_id).tobytes()
    finally:
        fresh.close()


def test_reading_vectors_does_not_build_an_index_no_search_has_asked_for(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    got = w.memorise(a, space, ["only keyword searches here"])
    fresh = open_store(f"sqlite:///{db_path}")
    built: list[str] = []
    real = sqlite_vectors.VectorIndexes._caught_up

    def recorded(self: Any, db: Any, tenant_id: str, model_id: str) -> VectorIndex:
        built.append(tenant_id)
        return real(self, db, tenant_id, model_id)

    monkeypatch.setattr(sqlite_vectors.VectorIndexes, "_caught_up", recorded)
    try:
        vectors = fresh.chunk_vectors(MODEL, got.chunk_ids, a)
        assert built == []
        assert vectors[got.chunk_ids[0]].tobytes() == real_vector(db_path, got.chunk_ids[0]).tobytes()
    finally:
        fresh.close()


def real_vector(db_path: Path, chunk_id: str) -> np.ndarray:
    """The chunk's vector as the file holds it."""
    conn = sqlite3.connect(db_path)
    try:
        return sqlite_vectors.fetch_chunk_vectors(conn, MODEL, [chunk_id])[chunk_id]
    finally:
        conn.close()


def test_an_index_hands_back_vectors_of_live_memories_only_and_after_compaction() -> None:
    index = VectorIndex()
    count = 1100
    index.apply_memories([_record(rid) for rid in range(count)])
    vectors = np.random.default_rng(3).standard_normal((count, 8)).astype(np.float32)
    index.apply_chunks([f"c{rid}" for rid in range(count)], list(range(count)), vectors)
    index.apply_deletes([0, 1])
    got = index.vectors(["c0", "c2", "c9", "nope"])
    assert list(got) == ["c2", "c9"]
    assert got["c9"].tobytes() == vectors[9].tobytes()
    index.apply_deletes(range(2, 1030))  # past a quarter dead: the arrays are rewritten
    got = index.vectors(["c5", "c1050", "c1099"])
    assert list(got) == ["c1050", "c1099"]
    assert got["c1050"].tobytes() == vectors[1050].tobytes()
    assert got["c1099"].tobytes() == vectors[1099].tobytes()


def _record(rid: int) -> MemoryRecord:
    return MemoryRecord(
        rid=rid,
        id=f"m{rid}",
        space_id="s",
        user_id=None,
        session_id=None,
        kind="fact",
        core=False,
        superseded=False,
        metadata="{}",
    )
