"""Congruence: the same scenario on SQLite and on PostgreSQL gives the same answers.

The contract suite checks each store against expectations written by hand; this runs one richer scenario
on both and compares them with each other (qdrant-client's congruence tests): listings, counts, vector
search (same chunks, same cosines), keyword search (same hits when every match fits in the limit), and a
grid of metadata filters built to hit the corners of ``core/filters.py`` — ``true`` vs ``1``, ``1`` vs
``1.0``, JSON ``null``, missing keys under ``$ne``/``$nin``/``$not``, list fields, nested paths through
non-objects, string vs number comparisons. The SQLite store evaluates filters with
:func:`~memhub.core.filters.matches` itself, so agreeing with it is agreeing with the definition.

Ids are random per store, so results are compared by memory text (unique in the scenario).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memhub.core.filters import matches, parse_filter
from memhub.core.models import MemoryKind, Scope
from memhub.core.ports import Store
from memhub.storage import open_store

from .contract import MODEL, Writer, all_pages

METADATA: list[dict[str, Any]] = [
    {"n": 1, "flag": True, "tags": ["red", "blue"], "nested": {"k": 1}},
    {"n": 1.0, "flag": 1, "tags": "red", "nested": {"k": "1"}},
    {"n": 2.5, "flag": False, "tags": [], "nested": [1, 2], "name": "alpha"},
    {"n": "2", "flag": None, "tags": ["green"], "name": "Beta"},
    {"n": -3, "tags": [["red"]], "name": "gamma", "nested": {"k": {"deep": True}}},
    {"flag": "true", "name": "émile", "nested": None},
    {"n": 10, "tags": [1, True], "name": "zeta", "obj": {"a": 1}},
    {},
    {"n": 0, "flag": 0, "tags": ["blue"], "obj": {"a": 1, "b": 2}},
    {"n": 7, "name": "alpha beta", "tags": [None]},
]

FILTERS: list[dict[str, Any]] = [
    {"n": 1},
    {"n": 1.0},
    {"flag": True},
    {"flag": 1},
    {"flag": None},
    {"flag": {"$ne": True}},
    {"flag": {"$exists": True}},
    {"flag": {"$exists": False}},
    {"tags": "red"},
    {"tags": ["red", "blue"]},
    {"tags": {"$in": ["green", "blue"]}},
    {"tags": {"$nin": ["red"]}},
    {"tags": None},
    {"tags": 1},
    {"tags": True},
    {"nested.k": 1},
    {"nested.k": "1"},
    {"nested.k.deep": True},
    {"nested.0": 1},
    {"obj": {"a": 1}},
    {"n": {"$gt": 1}},
    {"n": {"$gte": 1}},
    {"n": {"$lt": 2.5}},
    {"n": {"$lte": "2"}},
    {"n": {"$gt": "1"}},
    {"name": {"$gt": "alpha"}},
    {"name": {"$lt": "b"}},
    {"name": {"$gte": "Beta"}},
    {"$not": {"n": 1}},
    {"$or": [{"flag": False}, {"name": "zeta"}]},
    {"$and": [{"n": {"$gte": 0}}, {"tags": {"$ne": "blue"}}]},
    {"n": {"$in": [1, "2", 7]}},
    {"n": {"$nin": [1, 0]}},
    {"missing": {"$ne": 1}},
    {"missing": {"$nin": [1]}},
    {"$not": {"missing": 1}},
    {"flag": {"$in": []}},
    {"flag": {"$nin": []}},
    {"name": {"$contains": "alpha"}},
    {"name": {"$contains": "Alpha"}},
    {"name": {"$icontains": "BETA"}},
    {"name": {"$icontains": "É"}},
    {"tags": {"$contains": "red"}},
    {"tags": {"$contains": 1}},
    {"tags": {"$contains": True}},
    {"tags": {"$contains": None}},
    {"tags": {"$icontains": "RE"}},
    {"n": {"$contains": 1}},
    {"n": {"$contains": "2"}},
    {"nested": {"$contains": 2}},
    {"obj": {"$contains": "a"}},
    {"$not": {"tags": {"$icontains": "blu"}}},
]

TEXTS = [f"memory number {i} about {'coffee' if i % 2 else 'tea'} and item{i}" for i in range(len(METADATA))]


@pytest.fixture
def stores(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Store]]:
    pair = {"sqlite": open_store(f"sqlite:///{tmp_path / 'memhub.db'}"), "postgresql": open_store(pg_url)}
    yield pair
    for store in pair.values():
        store.close()


def _scenario(store: Store) -> tuple[str, dict[str, str]]:
    """Write the scenario; returns the tenant id and memory id -> text."""
    w = Writer(store, seed=7)
    tenant, space = w.tenant("acme")
    w.tenant("other")
    docs = w.space(tenant, "docs")
    texts: dict[str, str] = {}
    for i, (text, meta) in enumerate(zip(TEXTS, METADATA, strict=True)):
        got = w.memorise(
            tenant,
            docs if i % 3 == 0 else space,
            [text],
            user_id=f"user-{i % 2}",
            session_id=f"s-{i % 4}",
            kind=MemoryKind.DOCUMENT if i % 5 == 0 else MemoryKind.FACT,
            metadata=[meta],
        )
        texts[got.memory_ids[0]] = text
    old = next(mid for mid, text in texts.items() if text == TEXTS[1])
    got = w.memorise(tenant, space, ["replacement fact about coffee"], user_id="user-1", supersede={old: 0})
    texts[got.memory_ids[0]] = "replacement fact about coffee"
    return tenant, texts


def _listing(store: Store, tenant: str, texts: dict[str, str], flt: dict[str, Any] | None) -> list[str]:
    parsed = parse_filter(flt)
    pages = all_pages(lambda c, n: store.list_memories(Scope(tenant_id=tenant), parsed, c, n), 3)
    return [texts[m.id] for m in pages]


def test_filters_scopes_and_searches_agree(stores: dict[str, Store]) -> None:
    runs = {name: _scenario(store) for name, store in stores.items()}
    sqlite, postgres = stores["sqlite"], stores["postgresql"]
    (ts, texts_s), (tp, texts_p) = runs["sqlite"], runs["postgresql"]
    for raw in FILTERS:
        live = [(t, m) for t, m in zip(TEXTS, METADATA, strict=True) if t != TEXTS[1]]  # [1] superseded
        live.append(("replacement fact about coffee", {}))
        expected = sorted(t for t, m in live if matches(parse_filter(raw), m))
        listed = {name: _listing(store, run[0], run[1], raw) for (name, store), run in _pairs(stores, runs)}
        assert listed["sqlite"] == listed["postgresql"], raw
        assert sorted(listed["postgresql"]) == expected, raw
    assert sqlite.counts(ts) == postgres.counts(tp)
    for scope_args in ({}, {"user_id": "user-1"}, {"session_id": "s-2"}, {"kinds": [MemoryKind.DOCUMENT]}):
        _assert_searches_agree(
            sqlite,
            postgres,
            Scope(tenant_id=ts, **scope_args),
            Scope(tenant_id=tp, **scope_args),
            texts_s,
            texts_p,
        )


def _pairs(stores: dict[str, Store], runs: dict[str, tuple[str, dict[str, str]]]) -> Any:
    return [((name, store), runs[name]) for name, store in stores.items()]


def _assert_searches_agree(
    sqlite: Store,
    postgres: Store,
    scope_s: Scope,
    scope_p: Scope,
    texts_s: dict[str, str],
    texts_p: dict[str, str],
) -> None:
    query = np.random.default_rng(3).standard_normal(8).astype(np.float32)
    dense_s = sqlite.vector_search(scope_s, None, MODEL, query, 5)
    dense_p = postgres.vector_search(scope_p, None, MODEL, query, 5)
    assert [texts_s[h.memory_id] for h in dense_s] == [texts_p[h.memory_id] for h in dense_p]
    np.testing.assert_allclose([h.score for h in dense_s], [h.score for h in dense_p], atol=1e-5)
    for words in ("coffee", "tea item3", "number", "replacement"):
        keyword_s = sqlite.keyword_search(scope_s, None, words, 50)
        keyword_p = postgres.keyword_search(scope_p, None, words, 50)
        assert sorted(texts_s[h.memory_id] for h in keyword_s) == sorted(
            texts_p[h.memory_id] for h in keyword_p
        )
        assert all(h.score > 0 for h in keyword_p)
