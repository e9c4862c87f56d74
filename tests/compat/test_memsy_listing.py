"""The Memsy console's page-cost listing (``memsy_listing.py``) answers exactly as ordering the whole view.

In-process over a real SQLite store: memories of every kind, with ties on both times, some superseded,
two actors; every sort the store serves x status x kind/type filter x offset is compared with the
whole-view path the console uses for everything else.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product

from memhub.api.compat.memsy.console import _MEMORY_ORDER, _whole_view_page
from memhub.api.compat.memsy.listing import STORE_ORDER, ListQuery, fast_page
from memhub.core import ids
from memhub.core.models import Memory, MemoryKind, MessageInput, SourceRef
from memhub.core.ports import JobOutcome, StoredMemory
from memhub.core.service import MemoryService

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def remember(service: MemoryService, tenant_id: str, n: int, supersede: list[str]) -> list[str]:
    """One Memsy event of actor ``a{n % 2}`` whose job makes one memory of each kind (times tie in
    threes); the new fact supersedes the memories named in ``supersede``."""
    when = START + timedelta(minutes=n // 3)
    message = MessageInput(role="user", content=f"event {n}", timestamp=when, metadata={"memsy": {}})
    job = service.add_messages(tenant_id, [message], user_id=f"a{n % 2}", idempotency_key=f"k{n}").job
    now = START + timedelta(hours=1, minutes=n // 2)
    claimed = service.store.claim_jobs("test", now, now + timedelta(minutes=5), 1)
    assert [j.id for j in claimed] == [job.id]
    event = service.store.job_events(job.id)[0]
    memories = [
        Memory(
            id=ids.derived_id(job.id, kind.value),
            tenant_id=tenant_id,
            space_id=job.space_id,
            user_id=job.user_id,
            kind=kind,
            text=f"{kind.value} {n}",
            sources=[SourceRef(event_id=event.id)],
            occurred_at=when,
            created_at=now,
            updated_at=now,
            job_id=job.id,
        )
        for kind in MemoryKind
    ]
    fact = next(m.id for m in memories if m.kind is MemoryKind.FACT)
    outcome = JobOutcome(
        job_id=job.id,
        memories=[StoredMemory(m, []) for m in memories],
        supersede=dict.fromkeys(supersede, fact),
    )
    assert service.store.complete_job(outcome, "test", now)
    return [m.id for m in memories]


def test_store_served_pages_equal_the_whole_view(service: MemoryService) -> None:
    tenant = service.ensure_tenant("listing-org")
    made: list[str] = []
    for n in range(12):
        made.extend(remember(service, tenant.id, n, supersede=made[-3:-1] if n % 4 == 3 else []))
    filters = [(None, None), ("episodic", None), ("semantic", None), (None, "fact"), ("semantic", "event")]
    combos = product(STORE_ORDER, ("active", "archived", "decayed"), filters, (None, "a1"), (0, 4, 35))
    for sort, status, (kind, type_), actor, offset in combos:
        query = ListQuery(tenant.id, actor, kind, type_, status, offset, 5)
        expected = _whole_view_page(service, query, sort, None)
        got = fast_page(service, query, sort, _MEMORY_ORDER[sort])
        assert got is not None
        assert ([m.id for m in got[0]], got[1]) == ([m.id for m in expected[0]], expected[1]), query
    assert (
        _whole_view_page(
            service, ListQuery(tenant.id, None, None, None, "archived", 0, 50), "observed_at_desc", None
        )[1]
        > 0
    )


def test_orders_by_derived_values_are_left_to_the_whole_view(service: MemoryService) -> None:
    tenant = service.ensure_tenant("listing-org")
    query = ListQuery(tenant.id, None, None, None, "active", 0, 5)
    assert fast_page(service, query, "strength_desc", _MEMORY_ORDER["strength_desc"]) is None
