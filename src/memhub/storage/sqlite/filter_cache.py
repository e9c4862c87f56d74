"""Remembered verdicts of a metadata filter, per memory slot of a vector index.

A filtered vector search must know, for every memory in scope, whether its metadata passes the filter
— before ranking, so that ``limit`` hits come back. :func:`~memhub.core.filters.matches` is the one
definition of filter semantics, but calling it costs ~3.5 µs per memory: 35 ms for a user with 10k
memories, 350 ms for a 100k space. Agents repeat the same few filters (a project, a tag), so the
verdicts are kept per filter as an int8 array over slots (-1 unknown, 0 no, 1 yes) and only unknown
slots in scope are evaluated. New memories only add slots, so verdicts stay valid as the index grows;
they are dropped when existing metadata changes or compaction renumbers the slots (:meth:`invalidate`,
which moves the epoch on).

Concurrency: a search works against the epoch it captured with its snapshot; if the cache has moved on
since, it evaluates without the cache, so a verdict computed for old slot numbers never lands in the
new epoch's arrays. Two searches filling the same array write the same values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from memhub.core.filters import Filter, matches

from ..sql.codec import decode_json

Mask = npt.NDArray[np.bool_]
Verdicts = npt.NDArray[np.int8]

MAX_FILTERS = 32
"""Distinct filters remembered per index (least recently used go first): 1 byte per memory each."""


class FilterVerdicts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch = 0
        self._verdicts: OrderedDict[str, Verdicts] = OrderedDict()

    @property
    def epoch(self) -> int:
        return self._epoch

    def invalidate(self) -> None:
        """Existing slots' metadata changed or slots were renumbered: forget every verdict."""
        with self._lock:
            self._epoch += 1
            self._verdicts.clear()

    def narrow(self, mask: Mask, flt: Filter, metadata: Sequence[str], epoch: int) -> None:
        """``mask &= matches(flt, metadata[slot])`` (JSON text), evaluating only slots in ``mask`` not
        known yet."""
        verdicts = self._array(repr(flt), len(mask), epoch)
        todo = np.flatnonzero(mask & (verdicts < 0))
        for slot in todo.tolist():
            verdicts[slot] = matches(flt, decode_json(metadata[slot]))
        mask &= verdicts == 1

    def _array(self, key: str, size: int, epoch: int) -> Verdicts:
        """The cached verdicts of ``key`` over ``size`` slots (grown if needed), or a private array."""
        with self._lock:
            if epoch != self._epoch:
                return np.full(size, -1, dtype=np.int8)
            known = self._verdicts.pop(key, None)
            if known is None or len(known) < size:
                grown = np.full(size, -1, dtype=np.int8)
                if known is not None:
                    grown[: len(known)] = known
                known = grown
            self._verdicts[key] = known
            while len(self._verdicts) > MAX_FILTERS:
                self._verdicts.popitem(last=False)
            return known[:size]
