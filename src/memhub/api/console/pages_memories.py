"""Console pages for memories: the filtered, cursor-paged list, one memory with its provenance and job,
deleting one, search with scores and sources, and a job's status.

Filters are plain query parameters, so every listing and search is a link that can be bookmarked or
shared with someone holding a key of the same tenant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from memhub.core.errors import InvalidInput, NotFound
from memhub.core.models import Job, MemoryKind, SearchMode, SearchRequest
from memhub.core.service import MemoryService

from ..deps import ServiceDep
from .session import CSRF_FIELD, ViewerDep, check_form
from .web import PagesDep

router = APIRouter()
CORE_CHOICES = {"": None, "yes": True, "no": False}


@router.get("/memories")
def memories(
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    space: str = "",
    user_id: str = "",
    session_id: str = "",
    kind: MemoryKind | None = None,
    core: str = "",
    superseded: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Response:
    tenant = viewer.tenant.id
    if core not in CORE_CHOICES:
        raise InvalidInput("core must be 'yes', 'no' or empty")
    page = service.list_memories(
        tenant,
        space=space or None,
        user_id=user_id or None,
        session_id=session_id or None,
        kinds=[kind] if kind else None,
        core=CORE_CHOICES[core],
        include_superseded=superseded,
        cursor=cursor,
        limit=limit,
    )
    filters = {
        "space": space,
        "user_id": user_id,
        "session_id": session_id,
        "kind": kind.value if kind else "",
        "core": core,
        "superseded": superseded,
        "limit": limit if limit != 50 else None,
    }
    spaces = service.list_spaces(tenant)
    return pages.render(
        request,
        "memories.html",
        viewer=viewer,
        page=page,
        filters=filters,
        cursor=cursor,
        spaces=spaces,
        space_names={s.id: s.name for s in spaces},
        kinds=[k.value for k in MemoryKind],
    )


@router.get("/memories/{memory_id}")
def memory(
    memory_id: str, request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep
) -> Response:
    tenant = viewer.tenant.id
    found = service.get_memory(tenant, memory_id)
    return pages.render(
        request,
        "memory.html",
        viewer=viewer,
        memory=found,
        space=service.get_space(tenant, found.space_id),
        sources=service.source_events(tenant, found),
        job=_job_or_none(service, tenant, found.job_id),
    )


@router.post("/memories/{memory_id}/delete")
def delete_memory(
    memory_id: str,
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_form(request, viewer, csrf)
    service.delete_memory(viewer.tenant.id, memory_id)
    return pages.redirect("/memories", f"Deleted memory {memory_id}.")


@router.get("/search")
def search(
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    q: str = "",
    space: str = "",
    user_id: str = "",
    mode: SearchMode = SearchMode.HYBRID,
    limit: int = 10,
) -> Response:
    tenant = viewer.tenant.id
    form = {"q": q, "space": space, "user_id": user_id, "mode": mode.value, "limit": limit}
    results, error = None, None
    if q.strip():
        ask = SearchRequest(
            query=q, spaces=[space] if space else None, user_id=user_id or None, mode=mode, limit=limit
        )
        try:
            results = service.search(tenant, ask)
        except InvalidInput as exc:  # shown next to the form, which keeps what was typed
            error = exc.message
    return pages.render(
        request,
        "search.html",
        status=422 if error else 200,
        viewer=viewer,
        form=form,
        results=results,
        error=error,
        spaces=service.list_spaces(tenant),
        modes=[m.value for m in SearchMode],
    )


@router.get("/jobs/{job_id}")
def job(job_id: str, request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep) -> Response:
    tenant = viewer.tenant.id
    found = service.get_job(tenant, job_id)
    events = service.job_events(tenant, job_id)
    return pages.render(request, "job.html", viewer=viewer, job=found, events=events)


def _job_or_none(service: MemoryService, tenant_id: str, job_id: str | None) -> Job | None:
    """A memory's job, or None when it has none or the job record is gone (the memory still stands)."""
    if job_id is None:
        return None
    try:
        return service.get_job(tenant_id, job_id)
    except NotFound:
        return None
