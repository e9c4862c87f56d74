"""Memsy's offset pages of ``/console/memories`` over memhub's keyset listing, at the cost of the page.

Memsy pages by ``offset``/``limit`` with a ``total``; memhub lists by cursor. For the orders the store
can list by (``observed_at`` = ``occurred_at`` either way, ``created_at`` newest first) and the filters
it can select by (``kind``/``type`` are memhub kinds, ``status`` is whether a newer fact superseded the
memory), a page costs one ``count`` query plus a walk of the listing that stops once ``offset + limit``
matching memories are seen, instead of reading every memory of the tenant:

* The store breaks ties on ``id`` in the direction of the time order; Memsy's order breaks them on
  ``id`` ascending. So the walk also takes every memory tied (same time) with the last one it needs,
  then sorts what it took by Memsy's exact key: the first ``offset + limit`` of that are exactly the
  first ``offset + limit`` of the whole ordered listing.
* ``active`` is counted as "not superseded" and ``archived`` as the rest, since the store sets
  ``valid_to`` only when it supersedes a memory (``translate.memory_status``). memhub never
  decays a memory, so ``decayed`` is always empty.

``search`` (a substring of the text) and the orders by Memsy-derived values (``strength``,
``confidence``) have no store counterpart: :func:`fast_page` answers None for them and the console
orders the whole translated view as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from memhub.core.models import Memory, MemoryKind, Page
from memhub.core.paging import iter_items
from memhub.core.ports import MemoryOrder
from memhub.core.service import DEFAULT_SPACE, MemoryService

from . import translate as tr

OrderKey = Callable[[Memory], float]

STORE_ORDER: dict[str, tuple[MemoryOrder, bool]] = {
    "observed_at_desc": ("occurred_at", True),
    "observed_at_asc": ("occurred_at", False),
    "created_at_desc": ("created_at", True),
}
"""Memsy sorts the store can list by: (store order, newest first)."""


@dataclass(frozen=True)
class ListQuery:
    """One ``/console/memories`` request, already validated (``search`` and ``sort`` are not here)."""

    tenant_id: str
    actor_id: str | None
    kind: str | None
    type: str | None
    status: str
    offset: int
    limit: int


def fast_page(
    service: MemoryService, query: ListQuery, sort: str, key: OrderKey
) -> tuple[list[Memory], int] | None:
    """(the page's memories in Memsy's order, the total), or None when the store can't serve ``sort``."""
    if sort not in STORE_ORDER:
        return None
    kinds = [k for k in MemoryKind if _kind_matches(k, query)]
    if not kinds or query.status not in ("active", "archived"):
        return [], 0
    taken = _leading(_walk(service, query, kinds, sort), query.offset + query.limit, key)
    taken.sort(key=lambda m: (key(m), m.id))
    return taken[query.offset : query.offset + query.limit], _total(service, query, kinds)


def _kind_matches(kind: MemoryKind, query: ListQuery) -> bool:
    return (query.kind is None or tr.memory_kind_of(kind) == query.kind) and (
        query.type is None or tr.memory_type_of(kind) == query.type
    )


def _walk(service: MemoryService, query: ListQuery, kinds: list[MemoryKind], sort: str) -> Iterator[Memory]:
    """The query's memories in the store's order, fetched lazily in pages about the size needed."""
    order_by, newest_first = STORE_ORDER[sort]
    size = min(service.limits.max_page_size, query.offset + query.limit + 1)

    def fetch(cursor: str | None) -> Page:
        return service.list_memories(
            query.tenant_id,
            user_id=query.actor_id,
            space=DEFAULT_SPACE,
            kinds=kinds,
            include_superseded=query.status != "active",
            cursor=cursor,
            limit=size,
            newest_first=newest_first,
            order_by=order_by,
        )

    return (m for m in iter_items(fetch) if tr.memory_status(m) == query.status)


def _leading(memories: Iterator[Memory], wanted: int, key: OrderKey) -> list[Memory]:
    """The first ``wanted`` memories, plus every later one tied on ``key`` with the last of those."""
    taken: list[Memory] = []
    for memory in memories:
        if len(taken) >= wanted and key(memory) != key(taken[wanted - 1]):
            break
        taken.append(memory)
    return taken


def _total(service: MemoryService, query: ListQuery, kinds: list[MemoryKind]) -> int:
    def count(include_superseded: bool) -> int:
        return service.count_memories(
            query.tenant_id,
            user_id=query.actor_id,
            space=DEFAULT_SPACE,
            kinds=kinds,
            include_superseded=include_superseded,
        )

    active = count(False)
    return active if query.status == "active" else count(True) - active
