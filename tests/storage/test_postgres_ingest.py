"""The PostgreSQL bulk write path (binary COPY of events, vectors, memories, chunks and vector links):
it writes what the row-by-row path wrote, and a failure part-way through a job leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from memhub.core.errors import InvalidInput
from memhub.core.models import JobStatus, MemoryKind
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.postgres.db import parse_postgres_url

from .contract import MODEL, Writer, at, content_hash


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def rows(pg_url: str, query: str) -> list[tuple[object, ...]]:
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query).fetchall()


def test_a_job_writes_every_row_and_each_link_carries_its_unit_vector(store: Store, w_pg: Writer) -> None:
    a, space = w_pg.tenant("a")
    texts = [f"memory {i}" for i in range(300)]
    vectors = [w_pg.unit() * (i + 1) for i in range(300)]  # not unit: the store normalises
    got = w_pg.memorise(a, space, texts, user_id="alice", vectors=vectors)
    assert len(store.job_events(got.job.id)) == 300
    assert [m.text for m in store.get_memories(a, got.memory_ids).values()] == texts
    links = store.chunk_vectors(MODEL, got.chunk_ids)
    for chunk_id, vector in zip(got.chunk_ids, vectors, strict=True):
        np.testing.assert_allclose(links[chunk_id], vector / np.linalg.norm(vector), rtol=1e-6)
    counts = store.counts(a)
    assert (counts.events, counts.memories) == (300, 300)


def test_a_hash_already_cached_keeps_its_vector_in_new_links(store: Store, w_pg: Writer) -> None:
    """As the row-by-row path did (links were copied from the cache): the first vector stored under a
    hash wins, even when a later outcome sends a different one for it."""
    a, space = w_pg.tenant("a")
    first = w_pg.memorise(a, space, ["first"])
    cached_hash = content_hash(f"first|{first.vectors[first.chunk_ids[0]].tobytes().hex()}")
    assert list(store.get_vectors(MODEL, [cached_hash])) == [cached_hash]
    job, events = w_pg.submit(a, space, None, ["second"])
    outcome, later = w_pg._outcome(job, events, ["second"], MemoryKind.FACT, False, None, None)
    outcome.memories[0].chunks[0].vector_hash = cached_hash
    outcome.vectors = {cached_hash: w_pg.unit()}  # a different vector under the same hash
    store.claim_jobs("w1", at(10**5), at(10**6), 100)
    assert store.complete_job(outcome, "w1", at(10**5 + 1))
    linked = store.chunk_vectors(MODEL, later.chunk_ids)[later.chunk_ids[0]]
    np.testing.assert_allclose(linked, first.vectors[first.chunk_ids[0]], rtol=1e-6)


def test_a_job_failing_after_its_first_copies_leaves_nothing(store: Store, w_pg: Writer, pg_url: str) -> None:
    """The chunk COPY fails (NUL in a chunk's text) after vectors, memories and sources went in: the
    whole job rolls back and stays leased, and the fixed outcome then completes."""
    a, space = w_pg.tenant("a")
    job, events = w_pg.submit(a, space, "alice", ["one", "two"])
    outcome, ingested = w_pg._outcome(job, events, ["one", "two"], MemoryKind.FACT, False, None, None)
    bad = outcome.memories[1].chunks[0].chunk
    outcome.memories[1].chunks[0].chunk = bad.model_copy(update={"text": "t\x00wo"})
    store.claim_jobs("w1", at(100), at(200), 1)
    with pytest.raises(InvalidInput, match="NUL"):
        store.complete_job(outcome, "w1", at(101))
    for table in ("vectors", "memories", "memory_sources", "chunks", "chunk_vectors"):
        assert rows(pg_url, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert store.get_job(a, job.id).status == JobStatus.PROCESSING
    outcome.memories[1].chunks[0].chunk = bad
    assert store.complete_job(outcome, "w1", at(102))
    assert set(store.get_memories(a, ingested.memory_ids)) == set(ingested.memory_ids)
    assert len(store.chunk_vectors(MODEL, ingested.chunk_ids)) == 2


@pytest.fixture
def w_pg(store: Store) -> Writer:
    return Writer(store)
