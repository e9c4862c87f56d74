"""SQLite walks an index for every memories listing instead of sorting the whole scope for each page.

The listing's real statement is captured (a trace callback on a connection to the store's file, handed
to ``sqlite_memories.list_memories``) and its ``EXPLAIN QUERY PLAN`` must not sort with a temporary
B-tree: Memsy's ``observed_at`` pages order by ``occurred_at`` (``memories_occurred`` and, for one
actor, ``memories_user_occurred``), the native listing by ``created_at``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest

from memhub.core.models import MemoryKind, Scope
from memhub.core.ports import MemoryOrder
from memhub.storage import open_store
from memhub.storage.sqlite import memories as sqlite_memories
from memhub.storage.sqlite import vectors as sqlite_vectors

from .contract import Writer


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """(file, tenant id, space id) of a store holding a dozen memories of each of two users."""
    path = tmp_path / "memhub.db"
    store = open_store(f"sqlite:///{path}")
    w = Writer(store)
    tenant, space = w.tenant("plans")
    for user in ("u1", "u2"):
        w.memorise(tenant, space, [f"{user} fact {n}" for n in range(12)], user_id=user)
    store.close()
    yield path, tenant, space


def listing_plan(path: Path, scope: Scope, order_by: MemoryOrder, newest_first: bool) -> list[str]:
    """The plan of the statement that lists the second page (a keyset cursor in the WHERE)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        first = sqlite_memories.list_memories(conn, scope, None, None, 5, newest_first, order_by)
        assert first.next_cursor is not None
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        sqlite_memories.list_memories(conn, scope, None, first.next_cursor, 5, newest_first, order_by)
        conn.set_trace_callback(None)
        listing = next(s for s in statements if "FROM memories m" in s and "ORDER BY" in s)
        return [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + listing)]
    finally:
        conn.close()


@pytest.mark.parametrize("order_by", ["occurred_at", "created_at"])
def test_memory_listings_walk_an_index_in_either_direction(
    seeded: tuple[Path, str, str], order_by: MemoryOrder
) -> None:
    path, tenant, space = seeded
    for user, newest_first, superseded, spaces in product(
        (None, "u1"), (True, False), (True, False), (None, [space])
    ):
        scope = Scope(
            tenant_id=tenant,
            space_ids=spaces,
            user_id=user,
            kinds=[MemoryKind.FACT, MemoryKind.EPISODE],
            include_superseded=superseded,
        )
        plan = " | ".join(listing_plan(path, scope, order_by, newest_first))
        assert "TEMP B-TREE" not in plan, (scope, order_by, plan)
        if order_by == "occurred_at":
            index = "memories_user_occurred" if user else "memories_occurred"
            assert f"USING INDEX {index} " in plan, plan


def plan_of(path: Path, sql: str, params: tuple[object, ...]) -> str:
    conn = sqlite3.connect(path)
    try:
        return " | ".join(str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        conn.close()


def test_vector_reads_start_from_the_chunks_or_memories_asked_for_not_from_every_vector_link(
    seeded: tuple[Path, str, str],
) -> None:
    """Reading a few chunks' vectors, and catching up after a write, cost what they read, not the file.

    Started from ``chunk_vectors_hash`` (all of a model's vector links), both grew with the file: 21 ms
    for 50 keyword hits and 77 ms per catch-up at 8k memories (docs/decisions/speed-targets.md).
    """
    path, tenant, _ = seeded
    conn = sqlite3.connect(path)
    model_id, chunk_id = conn.execute(
        "SELECT cv.model_id, c.id FROM chunk_vectors cv JOIN chunks c ON c.rid = cv.chunk_rid"
    ).fetchone()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert list(sqlite_vectors.fetch_chunk_vectors(conn, model_id, [chunk_id])) == [chunk_id]
    conn.close()
    fetch = next(s for s in statements if "FROM chunks c" in s)
    plans = {"fetch": plan_of(path, fetch, ())}
    for name, where, params in (
        ("catch-up", "m.tenant_id = ? AND m.rev > ?", (model_id, tenant, 3)),
        ("load", "m.tenant_id = ?", (model_id, tenant)),
    ):
        for sql in (sqlite_vectors._COUNT_SQL, sqlite_vectors._CHUNKS_SQL):
            plans[name + sql[:20]] = plan_of(path, sql + where, params)
    for name, plan in plans.items():
        assert "chunk_vectors_hash" not in plan, (name, plan)
        assert plan.startswith(("SEARCH c USING", "SEARCH m USING")), (name, plan)
