"""Memsy's console reads: ``/console/memories`` (list, get, stats) and the derived ``/actors``.

Memsy pages these by offset with sort orders and filters on Memsy's own attributes (``memory_kind``,
``type``, ``status``) that memhub derives per memory (``translate.py``). The memory list serves
what the store can order and select by from the store's listing and counts, at the cost of the page
(``listing.py``); a text ``search``, the orders by derived values, the stats and the actors read
the tenant's memories through the service's cursor listing and order, filter and count the translated
view: one pass over the tenant's memories per request, which keeps Memsy's vocabulary out of the
store. Orders always end with ``memory_id`` (``actor_id`` for actors), so offset paging never repeats
or skips an item.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from memhub.api.deps import ServiceDep, TenantDep
from memhub.core.errors import InvalidInput, NotFound
from memhub.core.models import Memory
from memhub.core.service import DEFAULT_SPACE, MemoryService

from . import translate as tr
from .hierarchy import check_org
from .listing import ListQuery, fast_page

router = APIRouter()

MemorySort = Literal[
    "observed_at_desc", "observed_at_asc", "strength_desc", "confidence_desc", "created_at_desc"
]
ActorSort = Literal["first_memory_desc", "first_memory_asc", "last_memory_desc", "actor_id_asc"]
MemoryStatus = Literal["active", "archived", "decayed"]

_MEMORY_ORDER: dict[str, Callable[[Memory], float]] = {
    "observed_at_desc": lambda m: -m.occurred_at.timestamp(),
    "observed_at_asc": lambda m: m.occurred_at.timestamp(),
    "strength_desc": lambda m: -tr.strength(m),
    "confidence_desc": lambda m: -tr.confidence(m),
    "created_at_desc": lambda m: -m.created_at.timestamp(),
}


def all_memories(service: MemoryService, tenant_id: str, user_id: str | None = None) -> list[Memory]:
    """Every memory of the tenant's Memsy space (superseded ones too), walking the cursor pages."""
    return service.all_memories(tenant_id, user_id=user_id, space=DEFAULT_SPACE, include_superseded=True)


# ---------------------------------------------------------------------------------------------------
# memories


@router.get("/console/memories")
def list_memories(
    tenant: TenantDep,
    service: ServiceDep,
    actor_id: str | None = None,
    kind: str | None = None,
    type: str | None = None,  # Memsy's parameter name
    status: MemoryStatus = "active",
    sort: MemorySort = "observed_at_desc",
    search: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Filters: ``kind`` = memory_kind, ``type``, ``status`` (absent = active), ``search`` = substring.

    Without ``search``, and in an order the store lists by, the page costs what the page holds
    (``listing.py``); otherwise the whole translated view is filtered and ordered.
    """
    query = ListQuery(tenant.id, actor_id, kind, type, status, offset, limit)
    found = None if search else fast_page(service, query, sort, _MEMORY_ORDER[sort])
    page, total = found if found is not None else _whole_view_page(service, query, sort, search)
    items = [tr.memory_item(m, tenant.name) for m in page]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _whole_view_page(
    service: MemoryService, query: ListQuery, sort: str, search: str | None
) -> tuple[list[Memory], int]:
    needle = search.casefold() if search else None
    matching = [
        m
        for m in all_memories(service, query.tenant_id, query.actor_id)
        if (query.kind is None or tr.memory_kind(m) == query.kind)
        and (query.type is None or tr.memory_type(m) == query.type)
        and tr.memory_status(m) == query.status
        and (needle is None or needle in m.text.casefold())
    ]
    order = _MEMORY_ORDER[sort]
    matching.sort(key=lambda m: (order(m), m.id))
    return matching[query.offset : query.offset + query.limit], len(matching)


@router.get("/console/memories/stats")
def memory_stats(tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """Counts over every memory of the org (any status); averages are 0.0 when there are none."""
    memories = all_memories(service, tenant.id)
    total = len(memories)
    confidences = [tr.confidence(m) for m in memories]
    observed = [m.occurred_at for m in memories]
    by_status = Counter(tr.memory_status(m) for m in memories)
    return {
        "total": total,
        "total_memories": total,
        "active_memories": by_status.get("active", 0),
        "avg_confidence": sum(confidences) / total if total else 0.0,
        "avg_strength": sum(tr.strength(m) for m in memories) / total if total else 0.0,
        "by_type": dict(Counter(tr.memory_type(m) for m in memories)),
        "by_kind": dict(Counter(tr.memory_kind(m) for m in memories)),
        "by_status": dict(by_status),
        "top_entities": [],  # memhub does not extract entities
        "confidence_buckets": _confidence_buckets(confidences),
        "date_range": {
            "earliest": tr.iso(min(observed, default=None)),
            "latest": tr.iso(max(observed, default=None)),
        },
    }


def _confidence_buckets(confidences: list[float]) -> list[dict[str, Any]]:
    counts = [0] * 5
    for value in confidences:
        counts[min(4, int(value * 5))] += 1
    return [{"range": f"{i / 5:.1f}-{(i + 1) / 5:.1f}", "count": n} for i, n in enumerate(counts)]


@router.get("/console/memories/{memory_id}")
def get_memory(memory_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    try:
        memory = service.get_memory(tenant.id, memory_id)
    except InvalidInput:  # a malformed id names no memory
        raise NotFound(f"no memory {memory_id!r}") from None
    return tr.memory_item(memory, tenant.name)


# ---------------------------------------------------------------------------------------------------
# actors


@router.get("/actors")
def list_actors(
    tenant: TenantDep,
    service: ServiceDep,
    org_id: str | None = None,
    sort: ActorSort = "first_memory_desc",
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The actors that have memories, folded from the memories on every read (they are not stored).

    Ingested memories live in the key's own org, so another org of the tenant has no actors yet.
    """
    own = check_org(service, tenant, org_id) == tenant.name
    actors = _actors(all_memories(service, tenant.id)) if own else []
    if q:
        actors = [a for a in actors if q.casefold() in a["actor_id"].casefold()]
    actors.sort(key=lambda a: a["actor_id"])
    if sort != "actor_id_asc":
        field = "last_memory_at" if sort == "last_memory_desc" else "first_memory_at"
        actors.sort(key=lambda a: a[field], reverse=sort != "first_memory_asc")  # stable: ties keep id order
    return {
        "items": actors[offset : offset + limit],
        "total": len(actors),
        "limit": limit,
        "offset": offset,
        "truncated": False,
    }


@router.get("/actors/{actor_id:path}")
def get_actor(
    actor_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
) -> dict[str, Any]:
    """``actor_id`` arrives percent-encoded (it may hold ``/``); the path converter keeps it whole."""
    own = check_org(service, tenant, org_id) == tenant.name
    found = _actors(all_memories(service, tenant.id, user_id=actor_id)) if own else []
    if not found:
        raise NotFound(f"actor {actor_id!r} has no memories")
    return found[0]


def _actors(memories: list[Memory]) -> list[dict[str, Any]]:
    by_actor: dict[str, list[Memory]] = {}
    for memory in memories:
        if memory.user_id is not None:
            by_actor.setdefault(memory.user_id, []).append(memory)
    return [_actor(actor_id, group) for actor_id, group in by_actor.items()]


def _actor(actor_id: str, memories: list[Memory]) -> dict[str, Any]:
    created: list[datetime] = [m.created_at for m in memories]
    tags = [tr.tags(m) for m in memories]
    return {
        "actor_id": actor_id,
        "first_memory_at": tr.iso(min(created)),
        "last_memory_at": tr.iso(max(created)),
        "memory_count": len(memories),
        "active_memory_count": sum(tr.memory_status(m) == "active" for m in memories),
        "scope_levels": sorted({"actor", *(tr.scope(m)["level"] for m in memories)}),
        "role_ids": sorted({t["role_id"] for t in tags if t.get("role_id")}),
        "team_ids": sorted({t["team_id"] for t in tags if t.get("team_id")}),
    }
