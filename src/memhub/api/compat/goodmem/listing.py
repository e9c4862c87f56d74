"""Which GoodMem memories a list (or a filter-selector delete) selects, at about the cost of the page.

A space's memories are the records of ``goodmem.memory`` whose ``spaceId`` is the space, so they are
read with the store's space-narrowed keyset listing (``page_records``) rather than the whole tenant's
collection, and their jobs (GoodMem's ``processingStatus``) with one ``get_jobs`` per store page
instead of one ``get_job`` per memory:

* sorted by ``created_at`` (the default), the store's order *is* GoodMem's — ``(created_at, id)``, both
  reversed for ``DESCENDING`` — so the walk stops once the page and one more matching memory (which
  says whether there is a ``nextToken``) are seen. A page ``offset`` deep costs ``offset + page`` rows:
  the token stays the offset GoodMem clients already hold;
* sorted by ``updated_at`` / ``processing_status`` (known only from the jobs) or ``content_type``, every
  memory of the space is read and sorted as before, still with batched job reads.

The metadata filter is the core's (:func:`~memhub.core.filters.matches`), applied as the walk goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from memhub.core.errors import InvalidInput
from memhub.core.filters import Filter, matches
from memhub.core.models import Job, Record
from memhub.core.service import MemoryService

from .filters.expression import parse_expression
from .resources import MEMORIES
from .wire import PROCESSING_STATUS

STATUSES = frozenset(PROCESSING_STATUS.values())
SORT_FIELDS = frozenset({"created_at", "updated_at", "content_type", "processing_status"})
WALK_PAGE = 500  # most records one store page of a walk reads
Item = tuple[Record, "Job | None"]


@dataclass(frozen=True)
class Selection:
    """A validated selection of one space's memories: status, metadata filter and order."""

    space_id: str
    status: str | None = None
    flt: Filter | None = None
    sort_by: str = "created_at"
    descending: bool = True


def selection(
    space_id: str,
    status: str | None,
    expression: str | None,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> Selection:
    """Check the query values in GoodMem's order (status, filter, then sort) and bundle them."""
    if status and status.upper() not in STATUSES:
        raise InvalidInput(f"status_filter must be one of {', '.join(sorted(STATUSES))}")
    flt = parse_expression(expression) if expression else None
    field = (sort_by or "created_at").lower()
    if field not in SORT_FIELDS:
        raise InvalidInput(f"sort_by must be one of {', '.join(sorted(SORT_FIELDS))}")
    order = (sort_order or "DESCENDING").upper()
    if order not in ("ASCENDING", "DESCENDING"):
        raise InvalidInput("sort_order must be ASCENDING or DESCENDING")
    upper = status.upper() if status else None
    return Selection(space_id, upper, flt, field, order == "DESCENDING")


def select_page(
    service: MemoryService, tenant_id: str, chosen: Selection, start: int, size: int
) -> tuple[list[Item], bool]:
    """The selection's items ``[start, start + size)`` in order, and whether any come after them."""
    if chosen.sort_by != "created_at":
        items = select_all(service, tenant_id, chosen)
        return items[start : start + size], start + size < len(items)
    wanted = start + size + 1
    with_jobs = chosen.status is not None  # otherwise only the page's own jobs are read, at the end
    items = []
    for item in _walk(service, tenant_id, chosen, min(wanted, WALK_PAGE), with_jobs=with_jobs):
        items.append(item)
        if len(items) == wanted:
            break
    page = items[start : start + size]
    if not with_jobs:
        records = [record for record, _ in page]
        page = list(zip(records, jobs_of(service, tenant_id, records), strict=True))
    return page, len(items) == wanted


def select_all(service: MemoryService, tenant_id: str, chosen: Selection) -> list[Item]:
    """Every item of the selection, sorted as it asks (stable, with the id as the tiebreak)."""
    items = list(_walk(service, tenant_id, chosen, WALK_PAGE, with_jobs=True))
    if chosen.sort_by != "created_at":  # the walk's order already is created_at's
        items.sort(key=lambda item: _sort_key(item, chosen.sort_by), reverse=chosen.descending)
    return items


def jobs_of(service: MemoryService, tenant_id: str, records: list[Record]) -> list[Job | None]:
    """Each record's job (None while it is being created, or if the job is gone), in one store call."""
    job_ids = [r.data["jobId"] for r in records if r.data.get("jobId")]
    jobs = service.get_jobs(tenant_id, job_ids) if job_ids else {}
    return [jobs.get(r.data.get("jobId") or "") for r in records]


def status_of(job: Job | None) -> str:
    return PROCESSING_STATUS[job.status] if job is not None else "PENDING"


def _walk(
    service: MemoryService, tenant_id: str, chosen: Selection, batch: int, *, with_jobs: bool
) -> Iterator[Item]:
    """The selection's items in created_at order, read a store page (and its jobs) at a time.

    Without ``with_jobs`` (only allowed when no status is selected) every job is None: unread."""
    cursor: str | None = None
    while True:
        page = service.page_records(
            tenant_id,
            MEMORIES,
            where={"spaceId": chosen.space_id},
            cursor=cursor,
            limit=batch,
            newest_first=chosen.descending,
        )
        records = [r for r in page.items if matches(chosen.flt, r.data.get("metadata", {}))]
        jobs = jobs_of(service, tenant_id, records) if with_jobs else [None] * len(records)
        for record, job in zip(records, jobs, strict=True):
            if chosen.status is None or status_of(job) == chosen.status:
                yield record, job
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _sort_key(item: Item, field: str) -> tuple[Any, str]:
    record, job = item
    values = {
        "created_at": record.created_at.isoformat(),
        "updated_at": (job.updated_at if job else record.updated_at).isoformat(),
        "content_type": record.data["contentType"],
        "processing_status": status_of(job),
    }
    return values[field], record.id
