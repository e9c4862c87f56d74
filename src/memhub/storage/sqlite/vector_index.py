"""The in-memory vector index of one (tenant, model): chunk vectors plus the memory attributes a
:class:`~memhub.core.models.Scope` and a metadata filter look at.

Search builds a boolean mask over the tenant's memories (space, user, session, kind, core, superseded,
then the metadata filter through :func:`~memhub.core.filters.matches`), spreads it to the memories'
chunks, and asks :func:`~.vector_matrix.top_k` for the best rows *among those*. Filtering before
ranking is what makes ``limit`` results come back whenever that many chunks are in scope, however
selective the scope is — the trap of approximate indexes that filter after.

Memories are "slots" in parallel arrays (attributes interned to small ints so masks are vector
compares); chunks are rows of a :class:`~.vector_matrix.VectorMatrix` pointing at their slot. Deleting
a memory only marks its slot dead (its chunks drop out of every mask); once dead rows (or dead slots)
pass a quarter of the total, :meth:`VectorIndex._compact` rewrites the arrays without them.

Thread safety: every mutation and the capture of a search's snapshot (references to the current arrays,
a few microseconds) hold the index's lock; the scoring itself runs outside it on the snapshot, so
searches run in parallel with each other and with catching up. That is safe because appends land past
a snapshot's length, compaction builds new arrays instead of rewriting old ones, and the only in-place
writes are single flags (a search racing a supersede sees the memory either before or after it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memhub.core.errors import InvalidInput
from memhub.core.filters import Filter
from memhub.core.models import Scope
from memhub.core.ports import ChunkHit, Matrix, Vector

from .filter_cache import FilterVerdicts
from .vector_matrix import Column, MatrixView, VectorMatrix, top_k

Mask = npt.NDArray[np.bool_]

_NONE = -1  # interned code for a missing user / session
_UNKNOWN = -2  # a scope value the index has never seen: matches nothing


@dataclass(frozen=True)
class MemoryRecord:
    """What the index needs to know about one memory."""

    rid: int
    id: str
    space_id: str
    user_id: str | None
    session_id: str | None
    kind: str
    core: bool
    superseded: bool
    metadata: str
    """As stored (JSON text), decoded only when a filter asks: a decoded dict per memory held ~200 bytes
    more, 200 MB at a million memories."""


class _Interner:
    """Small ints for strings, so scope conditions become integer compares over arrays."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def add(self, value: str | None) -> int:
        if value is None:
            return _NONE
        return self._codes.setdefault(value, len(self._codes))

    def find(self, value: str) -> int:
        return self._codes.get(value, _UNKNOWN)


@dataclass(frozen=True)
class _Snapshot:
    """What one search reads, captured at once under the lock so lengths and slot numbers agree."""

    matrix: MatrixView
    alive: Mask
    superseded: Mask
    core: Mask
    codes: dict[str, npt.NDArray[np.int32]]
    chunk_slot: npt.NDArray[np.int32]
    chunk_ids: list[str]
    memory_ids: list[str]
    metadata: list[str]
    epoch: int  # of the filter verdicts, which are only valid for this slot numbering


class VectorIndex:
    """Chunks of one tenant's memories embedded by one model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrix: VectorMatrix | None = None
        self._slot_of: dict[int, int] = {}
        self._memory_ids: list[str] = []
        self._metadata: list[str] = []
        self._alive, self._superseded, self._core = Column(np.bool_), Column(np.bool_), Column(np.bool_)
        self._codes = {name: Column(np.int32) for name in _CODED}
        self._interned = {name: _Interner() for name in _CODED}
        self._chunk_ids: list[str] = []
        self._row_of: dict[str, int] = {}  # chunk id -> row (its key strings are those of _chunk_ids)
        self._chunk_slot = Column(np.int32)
        self._dead_rows = 0
        self._dead_slots = 0
        self._reserved = 0
        self._verdicts = FilterVerdicts()

    # --- mutation ----------------------------------------------------------------------------------
    def has_memory(self, rid: int) -> bool:
        return rid in self._slot_of

    def apply_memories(self, records: Iterable[MemoryRecord]) -> None:
        """Insert new memories or update the attributes of known ones."""
        fresh: list[MemoryRecord] = []
        with self._lock:
            for record in records:
                slot = self._slot_of.get(record.rid)
                if slot is None:
                    fresh.append(record)
                else:
                    self._update_memory(slot, record)
            self._append_memories(fresh)

    def reserve(self, rows: int) -> None:
        """Expect ``rows`` more chunk rows (a full load counts them first): the matrix is allocated once,
        with a quarter of headroom, rather than doubled through copies that briefly hold it twice."""
        with self._lock:
            self._reserved = self._chunk_slot.size + rows + rows // 4
            self._chunk_slot.reserve(self._reserved)
            if self._matrix is not None:
                self._matrix.reserve(self._reserved)

    def apply_chunks(self, chunk_ids: Sequence[str], memory_rids: Sequence[int], vectors: Matrix) -> None:
        """Add chunk rows of known memories. Every row of one index has the model's dimension."""
        if not chunk_ids:
            return
        with self._lock:
            if self._matrix is None:
                self._matrix = VectorMatrix(vectors.shape[1])
                self._matrix.reserve(self._reserved)
            if vectors.shape[1] != self._matrix.dim:
                raise InvalidInput(f"vectors of {vectors.shape[1]} dims in a {self._matrix.dim}-dim index")
            self._chunk_slot.extend([self._slot_of[rid] for rid in memory_rids])
            first = len(self._chunk_ids)
            self._chunk_ids.extend(chunk_ids)
            self._row_of.update(zip(chunk_ids, range(first, first + len(chunk_ids)), strict=True))
            self._matrix.extend(vectors)

    def apply_deletes(self, memory_rids: Iterable[int]) -> None:
        """Forget memories (and so their chunks); compacts once a quarter of the rows are dead."""
        with self._lock:
            slots = [self._slot_of.pop(rid) for rid in memory_rids if rid in self._slot_of]
            if not slots:
                return
            self._alive.view()[slots] = False
            self._dead_slots += len(slots)
            self._dead_rows += int(np.isin(self._chunk_slot.view(), slots).sum())
            if self._dead_rows > max(1024, self._chunk_slot.size // 4) or self._dead_slots > max(
                1024, len(self._memory_ids) // 4
            ):
                self._compact()

    def _append_memories(self, records: list[MemoryRecord]) -> None:
        """New slots, one ``extend`` per column (a full load appends 100k memories at once)."""
        first = len(self._memory_ids)
        self._slot_of.update((record.rid, first + i) for i, record in enumerate(records))
        self._memory_ids.extend(record.id for record in records)
        self._metadata.extend(record.metadata for record in records)
        self._alive.extend(np.ones(len(records), dtype=np.bool_))
        self._superseded.extend([record.superseded for record in records])
        self._core.extend([record.core for record in records])
        for name, attribute in _CODED.items():
            add = self._interned[name].add
            self._codes[name].extend([add(getattr(record, attribute)) for record in records])

    def _update_memory(self, slot: int, record: MemoryRecord) -> None:
        if record.metadata != self._metadata[slot]:
            self._metadata[slot] = record.metadata
            self._verdicts.invalidate()
        self._superseded.view()[slot] = record.superseded
        self._core.view()[slot] = record.core
        for name, attribute in _CODED.items():
            self._codes[name].view()[slot] = self._interned[name].add(getattr(record, attribute))

    def _compact(self) -> None:
        """Rewrite every array without dead memories and their chunks (new buffers: snapshots stay valid)."""
        live_slots = np.flatnonzero(self._alive.view())
        new_slot = np.full(len(self._memory_ids), -1, dtype=np.int32)
        new_slot[live_slots] = np.arange(len(live_slots), dtype=np.int32)
        live_rows = np.flatnonzero(self._alive.view()[self._chunk_slot.view()])
        remapped = new_slot[self._chunk_slot.view()[live_rows]]
        for column in (self._alive, self._superseded, self._core, *self._codes.values()):
            column.keep(live_slots)
        self._memory_ids = [self._memory_ids[slot] for slot in live_slots]
        self._metadata = [self._metadata[slot] for slot in live_slots]
        self._slot_of = {rid: int(new_slot[slot]) for rid, slot in self._slot_of.items()}
        self._chunk_ids = [self._chunk_ids[row] for row in live_rows]
        self._row_of = {chunk_id: row for row, chunk_id in enumerate(self._chunk_ids)}
        self._chunk_slot = Column(np.int32)
        self._chunk_slot.extend(remapped)
        if self._matrix is not None:
            self._matrix.keep(live_rows)
        self._dead_rows = self._dead_slots = 0
        self._verdicts.invalidate()

    # --- search ------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Live chunk rows."""
        return self._chunk_slot.size - self._dead_rows

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vector]:
        """The vectors of those of ``chunk_ids`` that are rows of live memories here (copies of the exact
        float32 rows, which are the stored vectors' bytes); chunks it does not hold are left out."""
        with self._lock:
            if self._matrix is None:
                return {}
            row_of = self._row_of
            found = [(chunk_id, row) for chunk_id in chunk_ids if (row := row_of.get(chunk_id)) is not None]
            if not found:
                return {}
            rows = np.fromiter((row for _, row in found), dtype=np.int64, count=len(found))
            live = self._alive.view()[self._chunk_slot.view()[rows]]
            vectors = self._matrix.view().exact[rows]  # a copy, taken under the lock
        return {
            chunk_id: vector
            for (chunk_id, _), vector, alive in zip(found, vectors, live.tolist(), strict=True)
            if alive
        }

    def search(self, scope: Scope, flt: Filter | None, query: Vector, limit: int) -> list[ChunkHit]:
        """The ``limit`` chunks in scope closest to ``query`` by dot product (cosine), best first."""
        snap = self._capture()
        if snap is None or limit <= 0:
            return []
        if query.shape != (snap.matrix.dim,):
            raise InvalidInput(
                f"query vector has shape {query.shape}; the index holds {snap.matrix.dim} dims"
            )
        memory_mask = self._memory_mask(snap, scope, flt)
        rows = np.flatnonzero(memory_mask[snap.chunk_slot])
        best, scores = top_k(snap.matrix, query, rows, limit)
        vectors = snap.matrix.exact[best]  # a copy: later writes to the matrix leave the hits alone
        return [
            ChunkHit(snap.chunk_ids[row], snap.memory_ids[snap.chunk_slot[row]], float(score), vector)
            for row, score, vector in zip(best.tolist(), scores.tolist(), vectors, strict=True)
        ]

    def _capture(self) -> _Snapshot | None:
        with self._lock:
            if self._matrix is None:
                return None
            return _Snapshot(
                matrix=self._matrix.view(),
                alive=self._alive.view(),  # type: ignore[arg-type]
                superseded=self._superseded.view(),  # type: ignore[arg-type]
                core=self._core.view(),  # type: ignore[arg-type]
                codes={name: column.view() for name, column in self._codes.items()},  # type: ignore[misc]
                chunk_slot=self._chunk_slot.view(),  # type: ignore[arg-type]
                chunk_ids=self._chunk_ids,
                memory_ids=self._memory_ids,
                metadata=self._metadata,
                epoch=self._verdicts.epoch,
            )

    def _memory_mask(self, snap: _Snapshot, scope: Scope, flt: Filter | None) -> Mask:
        mask: Mask = snap.alive.copy()
        if not scope.include_superseded:
            mask &= ~snap.superseded
        if scope.core is not None:
            mask &= snap.core == scope.core
        kinds = None if scope.kinds is None else [kind.value for kind in scope.kinds]
        wanted = {
            "space": scope.space_ids,
            "user": _one(scope.user_id),
            "session": _one(scope.session_id),
            "kind": kinds,
        }
        for name, values in wanted.items():
            if values is not None:
                codes = [self._interned[name].find(value) for value in values]
                column = snap.codes[name]
                mask &= column == codes[0] if len(codes) == 1 else np.isin(column, codes)
        if flt is not None:
            self._verdicts.narrow(mask, flt, snap.metadata, snap.epoch)
        return mask


_CODED = {"space": "space_id", "user": "user_id", "session": "session_id", "kind": "kind"}
"""Memory attributes a scope compares, interned to ints: name -> MemoryRecord attribute."""


def _one(value: str | None) -> list[str] | None:
    return None if value is None else [value]
