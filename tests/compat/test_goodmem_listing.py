"""GoodMem's page-cost memory listing (``goodmem/listing.py``) selects exactly what reading the whole
collection did: every sort x order x status x metadata filter x offset is compared with that reference.

In-process over a real SQLite store: memories created the way the route creates them (record + queued
document job) in two spaces, records sharing a ``created_at`` (the id breaks the tie), a memory whose
job failed and one whose job is not queued yet. The store pages are made small so one list crosses
several of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product
from typing import Any

import pytest

from memhub.api.compat.goodmem import listing
from memhub.api.compat.goodmem.filters.expression import parse_expression
from memhub.api.compat.goodmem.memories import create
from memhub.api.compat.goodmem.resources import MEMORIES
from memhub.api.compat.goodmem.wire import MemoryCreate
from memhub.core.errors import InvalidInput, NotFound
from memhub.core.filters import matches
from memhub.core.models import Job, Record, Tenant
from memhub.core.service import MemoryService

TIED = datetime(2026, 1, 1, tzinfo=timezone.utc)
EVEN = "CAST(val('$.source') AS TEXT) = 'even'"


def populate(service: MemoryService, tenant: Tenant) -> tuple[str, str]:
    """Two spaces of GoodMem memories; returns (listed space id, other space id)."""
    listed = service.create_space(tenant.id, "listed").id
    other = service.create_space(tenant.id, "other").id
    for n in range(11):
        space = other if n % 4 == 3 else listed
        source = "even" if n % 2 == 0 else "odd"
        kind = "text/markdown" if n % 3 == 0 else "text/plain"
        body = MemoryCreate(space_id=space, original_content=f"memory {n}", content_type=kind)
        body.metadata = {"source": source}
        create(service, tenant, body, f"memory {n}".encode())
    for n in range(4):  # created in the same microsecond; the last has no job yet
        data = {"spaceId": listed, "contentType": "text/plain", "metadata": {"source": "even"}}
        job_id = None if n == 3 else _any_job(service, tenant.id)
        record = Record(
            tenant_id=tenant.id,
            collection=MEMORIES,
            id=f"00000000-0000-4000-8000-00000000000{n}",
            data={**data, "jobId": job_id},
            created_at=TIED,
            updated_at=TIED,
        )
        service.store.add_record(record)
    _fail_one_job(service)
    return listed, other


def _any_job(service: MemoryService, tenant_id: str) -> str:
    return str(service.list_records(tenant_id, MEMORIES)[0].data["jobId"])


def _fail_one_job(service: MemoryService) -> None:
    now = service.now()
    claimed = service.store.claim_jobs("test", now, now + timedelta(minutes=1), 1)
    service.store.fail_job(claimed[0].id, "test", "broken", now, retry=False)


def reference(
    service: MemoryService, tenant_id: str, space_id: str, status: str | None, flt: str | None, sort: str
) -> list[tuple[Record, Job | None]]:
    """What the list selected before: the whole collection, one job read per record, then sorted."""
    parsed = parse_expression(flt) if flt else None
    items = []
    for record in service.list_records(tenant_id, MEMORIES):
        if record.data.get("spaceId") != space_id or not matches(parsed, record.data.get("metadata", {})):
            continue
        job = _job(service, tenant_id, record)
        if status is None or listing.status_of(job) == status:
            items.append((record, job))
    field, order = sort.split(":")

    def key(item: tuple[Record, Job | None]) -> tuple[Any, str]:
        record, job = item
        values = {
            "created_at": record.created_at.isoformat(),
            "updated_at": (job.updated_at if job else record.updated_at).isoformat(),
            "content_type": record.data["contentType"],
            "processing_status": listing.status_of(job),
        }
        return values[field], record.id

    items.sort(key=key, reverse=order == "DESCENDING")
    return items


def _job(service: MemoryService, tenant_id: str, record: Record) -> Job | None:
    try:
        return service.get_job(tenant_id, record.data["jobId"]) if record.data.get("jobId") else None
    except NotFound:
        return None


def test_pages_equal_the_whole_collection_read(
    service: MemoryService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "WALK_PAGE", 3)  # several store pages per list
    tenant = service.ensure_tenant("goodmem-listing")
    listed, _ = populate(service, tenant)
    sorts = [f"{f}:{o}" for f, o in product(sorted(listing.SORT_FIELDS), ("ASCENDING", "DESCENDING"))]
    statuses = [None, "PENDING", "FAILED", "COMPLETED"]
    checked = 0
    for sort, status, flt in product(sorts, statuses, (None, EVEN)):
        whole = reference(service, tenant.id, listed, status, flt, sort)
        chosen = listing.selection(listed, status and status.lower(), flt, *sort.split(":"))
        assert [r.id for r, _ in listing.select_all(service, tenant.id, chosen)] == [r.id for r, _ in whole]
        for start, size in product((0, 1, 4, 12), (1, 2, 5, 50)):
            page, more = listing.select_page(service, tenant.id, chosen, start, size)
            assert page == whole[start : start + size], (sort, status, flt, start, size)
            assert more == (start + size < len(whole))
            checked += 1
    assert checked == 8 * 4 * 2 * 16
    every = reference(service, tenant.id, listed, None, None, "created_at:ASCENDING")
    assert {listing.status_of(job) for _, job in every} == {"PENDING", "FAILED"}  # both kinds were listed
    assert sum(r.created_at == TIED for r, _ in every) == 4  # and the ties


def test_selection_rejects_bad_values_naming_the_parameter() -> None:
    for args, word in [
        (("s", "DONE", None), "status_filter"),
        (("s", None, "val('$.a') = "), "filter"),
        (("s", None, None, "size"), "sort_by"),
        (("s", None, None, None, "UP"), "sort_order"),
    ]:
        with pytest.raises(InvalidInput, match=word):
            listing.selection(*args)  # type: ignore[arg-type]
