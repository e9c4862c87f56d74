"""Python's cyclic garbage collector, set for a long-lived server (``docs/decisions/search-latency.md``).

CPython's default starts a young-generation collection every 700 net container allocations. A hybrid
search holds more than that at its peak (the head's memories and chunks as models, candidate records),
so nearly every search paid one or two collections, and every couple of hundred searches a *full*
collection walked all ~110k objects the process keeps for its whole life (modules, the app, pydantic
schemas, the model's session), landing inside whichever request happened to be running (figures in
the decision file). What a search allocates is freed by reference counting when it ends; the collector
only exists for reference cycles, and memhub's requests make few of them. So, while an app is running:

* the young threshold is raised to :data:`YOUNG_THRESHOLD` (never lowered: a host that set a higher one
  keeps it; a host that disabled the collector keeps it disabled): a collection every several requests
  instead of one or two per search, each no dearer, since it only walks containers still alive;
* ``memhub serve`` also freezes what exists once start-up is done (:func:`gc.freeze`): those objects live
  as long as the process, so full collections stop walking them over and over (unfrozen when the app
  stops, in case the process goes on).

The embedded client runs inside its caller's process, whose objects are not memhub's to make
permanent: it gets the threshold only, and gives the caller's threshold back when the last engine of
the process closes. ``MEMHUB_GC_TUNING=false`` leaves the collector alone entirely.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
"""Net container allocations between two young collections while memhub runs (CPython's default: 700)."""


class _Setting:
    """The process's one tuned setting, shared by every app running in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0  # apps of this process currently inside tuned()
        self._saved: tuple[int, int, int] | None = None  # the thresholds found when the first started
        self._ours: tuple[int, int, int] | None = None  # those set then (given back only if still in place)

    def start(self) -> None:
        with self._lock:
            self._running += 1
            if self._running > 1:
                return
            self._saved = gc.get_threshold()
            young, middle, old = self._saved
            if 0 < young < YOUNG_THRESHOLD:  # 0: the host turned automatic collection off
                gc.set_threshold(YOUNG_THRESHOLD, middle, old)
            self._ours = gc.get_threshold()

    def finish(self) -> None:
        with self._lock:
            self._running -= 1
            if self._running > 0:
                return
            if self._saved is not None and gc.get_threshold() == self._ours:
                gc.set_threshold(*self._saved)
            self._saved = self._ours = None


_SETTING = _Setting()


@contextmanager
def tuned(*, freeze: bool) -> Iterator[None]:
    """Raise the young threshold while the block runs; with ``freeze``, freeze the heap as it is now.

    Nested and concurrent uses (several embedded engines in one process) share one setting: the first
    to start raises it, the last to finish restores the previous thresholds, unless someone changed
    them in between (then theirs stay).
    """
    _SETTING.start()
    try:
        if freeze:
            gc.collect()  # what start-up left as garbage goes now, rather than frozen for ever
            gc.freeze()
        yield
    finally:
        if freeze:  # an app stopped in a process that goes on (tests): its objects are collectable again
            gc.unfreeze()
        _SETTING.finish()
