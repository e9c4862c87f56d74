"""The store's embedding model and a reindex to another one (``memhub reindex``, ``core/reindex.py``).

One row (``vector_space``, id 1) holds the ``active`` model — the one searches use — and, while a
reindex runs, its ``target``. The new model's vectors are written beside the active model's (the
``chunk_vectors`` key is ``(chunk, model)``), so searches keep ranking the old vectors until
:func:`switch` finds every chunk with a new one, makes the target active and drops the old vectors, in
one transaction.

Writers and the switch are ordered by that row: a job's outcome reads it shared (:func:`check_writer`),
the switch locks it exclusively, so a chunk is either committed before the switch counts what is
missing, or written after it — and then only by the new model (a writer still running the old one is
refused with :class:`~memhub.core.errors.ModelRetired`). SQLite serialises every writer anyway.
"""

from __future__ import annotations

from memhub.core.errors import ModelRetired
from memhub.core.ports import ChunkToEmbed, VectorSpace

from .dialect import Connection, Dialect

READ_SPACE = "SELECT active, target FROM vector_space WHERE id = 1"
_MISSING = "NOT EXISTS (SELECT 1 FROM chunk_vectors cv WHERE cv.chunk_rid = c.rid AND cv.model_id = ?)"


def read_space(d: Dialect, conn: Connection, lock: str = "") -> VectorSpace:
    row = conn.execute(d.sql(READ_SPACE + lock)).fetchone()
    if row is None:  # the migration inserts the row; a store is never without it
        return VectorSpace()
    return VectorSpace(active=row["active"], target=row["target"])


def check_writer(d: Dialect, conn: Connection, model_id: str) -> None:
    """Refuse chunk vectors of a model the store has moved away from (see the module docstring)."""
    refuse_retired(read_space(d, conn, d.share_row), model_id, "this worker embeds with")


def refuse_retired(space: VectorSpace, model_id: str, role: str) -> None:
    """:class:`ModelRetired` unless ``model_id`` is the store's model or the one a reindex makes.

    Searching or writing with a retired model would rank nothing (its vectors are gone) or write
    vectors no search reads: the process is told to restart with the store's model instead.
    """
    if space.active is None or model_id in (space.active, space.target):
        return
    raise ModelRetired(
        f"this store now searches with the embedding model {space.active} (switched by `memhub "
        f"reindex`), but {role} {model_id}: restart it with --embed-model {space.active} "
        "(MEMHUB_EMBED_MODEL)"
    )


def begin(d: Dialect, conn: Connection, active: str | None, target: str) -> None:
    conn.execute(
        d.sql("UPDATE vector_space SET active = coalesce(active, ?), target = ? WHERE id = 1"),
        (active, target),
    )


def progress(d: Dialect, conn: Connection, model_id: str) -> tuple[int, int]:
    done = conn.execute(d.sql("SELECT count(*) AS n FROM chunk_vectors WHERE model_id = ?"), (model_id,))
    total = conn.execute("SELECT count(*) AS n FROM chunks")
    return int(done.fetchone()["n"]), int(total.fetchone()["n"])


def chunks_to_embed(
    d: Dialect, conn: Connection, model_id: str, after: int, limit: int
) -> list[ChunkToEmbed]:
    rows = conn.execute(
        d.sql(
            "SELECT c.rid, m.tenant_id, c.dense_key FROM chunks c JOIN memories m ON m.rid = c.memory_rid"
            f" WHERE c.rid > ? AND {_MISSING} ORDER BY c.rid LIMIT ?"
        ),
        (after, model_id, limit),
    ).fetchall()
    return [ChunkToEmbed(rid=int(r["rid"]), tenant_id=r["tenant_id"], dense_key=r["dense_key"]) for r in rows]


def switch(d: Dialect, conn: Connection, model_id: str) -> int:
    """Make ``model_id`` active if every chunk has its vector (returns 0); else how many lack one.

    The row lock comes first: writers in flight commit before the count, later ones wait for the switch.
    """
    read_space(d, conn, d.lock_row)
    missing = conn.execute(d.sql(f"SELECT count(*) AS n FROM chunks c WHERE {_MISSING}"), (model_id,))
    count = int(missing.fetchone()["n"])
    if count:
        return count
    # The stores' triggers release the vectors no chunk links any more; the second statement is for
    # vectors cached by a job whose chunks were since deleted (none, normally).
    conn.execute(d.sql("DELETE FROM chunk_vectors WHERE model_id <> ?"), (model_id,))
    conn.execute(d.sql("DELETE FROM vectors WHERE model_id <> ?"), (model_id,))
    conn.execute(d.sql("UPDATE vector_space SET active = ?, target = NULL WHERE id = 1"), (model_id,))
    return 0
