"""The numeric core of vector search: exact top-k through the int8 prefilter, and the index's masks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memhub.core.filters import parse_filter
from memhub.core.models import MemoryKind, Scope
from memhub.storage.sqlite.vector_index import MemoryRecord, VectorIndex
from memhub.storage.sqlite.vector_matrix import EXACT_ROWS, Column, VectorMatrix, top_k


def units(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def reference(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray, k: int) -> list[int]:
    scores = matrix[rows] @ query
    return [int(rows[i]) for i in np.lexsort((rows, -scores))[:k]]


@pytest.mark.parametrize("dim", [8, 64, 384])
def test_top_k_equals_a_full_float32_scan(dim: int) -> None:
    rng = np.random.default_rng(dim)
    n = 3 * EXACT_ROWS + 17
    matrix = units(rng, n, dim)
    vm = VectorMatrix(dim)
    for start in range(0, n, 1000):  # appended in pieces, as the index grows
        vm.extend(matrix[start : start + 1000])
    view = vm.view()
    selections = {
        "all": np.arange(n),
        "dense": np.flatnonzero(rng.random(n) < 0.8),
        "sparse": np.flatnonzero(rng.random(n) < 0.5),
        "small": np.sort(rng.choice(n, EXACT_ROWS // 2, replace=False)),
    }
    for name, rows in selections.items():
        for _ in range(5):
            query = units(rng, 1, dim)[0]
            got, scores = top_k(view, query, rows, 10)
            assert got.tolist() == reference(matrix, query, rows, 10), name
            np.testing.assert_allclose(scores, matrix[got] @ query, atol=1e-6)


def test_top_k_with_clustered_near_duplicates() -> None:
    """Many rows within the int8 error of each other: the bound must send all of them to rescoring."""
    rng = np.random.default_rng(5)
    base = units(rng, 1, 64)[0]
    noise = rng.standard_normal((EXACT_ROWS * 2, 64)).astype(np.float32) * 1e-3
    matrix = base + noise
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vm = VectorMatrix(64)
    vm.extend(matrix)
    rows = np.arange(len(matrix))
    got, scores = top_k(vm.view(), base, rows, 25)
    exact = matrix.astype(np.float64) @ base.astype(np.float64)
    best = np.sort(exact)[::-1][:25]
    # rows tied to the last float32 bit may come in either order; the scores may not differ
    np.testing.assert_allclose(exact[got], best, atol=1e-6)
    np.testing.assert_allclose(scores, best, atol=1e-6)


def test_top_k_edge_cases() -> None:
    vm = VectorMatrix(4)
    vm.extend(np.eye(4, dtype=np.float32))
    view = vm.view()
    query = np.array([0, 1, 0, 0], dtype=np.float32)
    assert top_k(view, query, np.array([], dtype=np.int64), 3)[0].tolist() == []
    assert top_k(view, query, np.arange(4), 0)[0].tolist() == []
    assert top_k(view, query, np.arange(4), 10)[0].tolist() == [1, 0, 2, 3]  # ties: lower row first


def test_views_do_not_change_when_the_column_grows() -> None:
    column = Column(np.int32)
    column.extend([1, 2, 3])
    before = column.view()
    column.extend(range(100))
    assert before.tolist() == [1, 2, 3]
    assert column.view()[:3].tolist() == [1, 2, 3] and column.size == 103


def test_reserved_room_takes_appends_in_place_and_keeps_what_was_there() -> None:
    column = Column(np.float32, 2)
    column.extend([[1, 2]])
    column.reserve(50)
    buffer = column.view().base
    for i in range(49):
        column.extend([[i, i]])
    assert column.view().base is buffer and column.size == 50  # no regrowth: one allocation
    assert column.view()[0].tolist() == [1, 2] and column.view()[-1].tolist() == [48, 48]
    column.reserve(10)  # less than held: nothing changes
    assert column.view().base is buffer


def record(rid: int, **overrides: object) -> MemoryRecord:
    fields: dict[str, object] = {
        "rid": rid,
        "id": f"m{rid}",
        "space_id": "s",
        "user_id": "u",
        "session_id": None,
        "kind": MemoryKind.FACT.value,
        "core": False,
        "superseded": False,
        "metadata": {},
    }
    fields.update(overrides)
    fields["metadata"] = json.dumps(fields["metadata"])  # the index keeps it as stored
    return MemoryRecord(**fields)  # type: ignore[arg-type]


def test_index_masks_updates_deletes_and_compaction() -> None:
    rng = np.random.default_rng(0)
    index = VectorIndex()
    n = 3000
    index.apply_memories(record(i, user_id=f"u{i % 3}", metadata={"i": i}) for i in range(n))
    vectors = units(rng, n, 16)
    index.apply_chunks([f"c{i}" for i in range(n)], list(range(n)), vectors)
    query = vectors[42]
    scope = Scope(tenant_id="t")
    assert index.search(scope, None, query, 1)[0].chunk_id == "c42"
    index.apply_memories([record(42, superseded=True, user_id="u0", metadata={"i": 42})])
    assert index.search(scope, None, query, 1)[0].chunk_id != "c42"
    assert (
        index.search(scope.model_copy(update={"include_superseded": True}), None, query, 1)[0].chunk_id
        == "c42"
    )
    index.apply_deletes(range(0, 2000))  # two thirds dead: compacts
    assert index.size == 1000
    hits = index.search(Scope(tenant_id="t", user_id="u1"), parse_filter({"i": {"$gte": 2500}}), query, 1000)
    expected = {f"c{i}" for i in range(2500, n) if i % 3 == 1}
    assert {h.chunk_id for h in hits} == expected
    index.apply_memories([record(n, user_id="new")])
    index.apply_chunks(["fresh"], [n], query[None, :])
    assert index.search(Scope(tenant_id="t", user_id="new"), None, query, 5)[0].chunk_id == "fresh"
    assert index.search(Scope(tenant_id="t", user_id="never-seen"), None, query, 5) == []


def test_filter_verdicts_follow_appends_metadata_changes_and_compaction() -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex()
    index.apply_memories(record(i, metadata={"tag": "a" if i % 2 else "b"}) for i in range(2000))
    vectors = units(rng, 2000, 8)
    index.apply_chunks([f"c{i}" for i in range(2000)], list(range(2000)), vectors)
    scope, flt, query = Scope(tenant_id="t"), parse_filter({"tag": "a"}), vectors[0]

    def found() -> set[str]:
        return {h.chunk_id for h in index.search(scope, flt, query, 5000)}

    assert found() == {f"c{i}" for i in range(1, 2000, 2)}
    assert found() == {f"c{i}" for i in range(1, 2000, 2)}  # from remembered verdicts
    index.apply_memories([record(1, metadata={"tag": "b"}), record(2, metadata={"tag": "a"})])
    expected = {f"c{i}" for i in range(3, 2000, 2)} | {"c2"}
    assert found() == expected
    index.apply_memories([record(5000, metadata={"tag": "a"})])
    index.apply_chunks(["late"], [5000], vectors[:1])
    assert found() == expected | {"late"}
    index.apply_deletes(range(3, 1800))  # compacts: slots renumbered
    assert found() == {f"c{i}" for i in range(1801, 2000, 2)} | {"c2", "late"}
