"""The native API under ``/v1``: memories, documents, events, jobs, search and server info.

Every route is thin on purpose: parse (FastAPI + ``schemas.py``), one :class:`MemoryService` call,
serialise (the core models, ``response_model`` from the return annotation). Business rules, limits and
tenant scoping live in the service and the store; errors become HTTP in ``errors.py``. Spaces, users and
sessions are in ``native_directory.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from memhub._version import __version__
from memhub.core.models import EventKind, Job, Memory, MemoryKind, SearchRequest
from memhub.core.service import Submitted

from . import native_directory
from .deps import ServiceDep, TenantDep
from .json_body import json_body
from .schemas import (
    AddDocumentRequest,
    AddEventRequest,
    AddMemoriesRequest,
    EmbedderInfo,
    ErrorEnvelope,
    EventPage,
    Info,
    JobAccepted,
    MemoryPage,
    PatchMemoryRequest,
    SearchResponse,
)

router = APIRouter(tags=["memories"])


def _accepted(submitted: Submitted) -> JobAccepted:
    return JobAccepted(job_id=submitted.job.id, status=submitted.job.status, created=submitted.created)


@router.get("/info", tags=["server"])
def info(tenant: TenantDep, service: ServiceDep) -> Info:
    """Server version, storage backend, embedding model, and what the caller's tenant holds."""
    embedder = EmbedderInfo(model=service.embedder.model_id, dim=service.embedder.dim)
    return Info(
        version=__version__,
        backend=service.store.backend,
        embedder=embedder,
        counts=service.counts(tenant.id),
    )


@router.post("/memories", status_code=202)
def add_memories(body: AddMemoriesRequest, tenant: TenantDep, service: ServiceDep) -> JobAccepted:
    """Store messages durably and queue their processing. 202: on disk, searchable once the job succeeds."""
    submitted = service.add_messages(
        tenant.id,
        body.messages,
        user_id=body.user_id,
        session_id=body.session_id,
        space=body.space,
        metadata=body.metadata,
    )
    return _accepted(submitted)


@router.post("/memories/search", response_model=SearchResponse)
def search(body: SearchRequest, tenant: TenantDep, service: ServiceDep) -> Response:
    """Hybrid (or dense / keyword) search; ``score`` is the relevance probability thresholds apply to."""
    return json_body(SearchResponse(results=service.search(tenant.id, body)))


@router.get("/memories", response_model=MemoryPage)
def list_memories(
    tenant: TenantDep,
    service: ServiceDep,
    user_id: str | None = None,
    session_id: str | None = None,
    space: str | None = None,
    kind: Annotated[list[MemoryKind] | None, Query()] = None,
    core: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Response:
    """Memories newest first, one page at a time (``next_cursor`` is null on the last page)."""
    page = service.list_memories(
        tenant.id,
        user_id=user_id,
        session_id=session_id,
        space=space,
        kinds=kind,
        core=core,
        cursor=cursor,
        limit=limit,
    )
    return json_body(MemoryPage(items=page.items, next_cursor=page.next_cursor))


@router.get("/memories/{memory_id}")
def get_memory(memory_id: str, tenant: TenantDep, service: ServiceDep) -> Memory:
    return service.get_memory(tenant.id, memory_id)


@router.patch("/memories/{memory_id}")
def patch_memory(memory_id: str, body: PatchMemoryRequest, tenant: TenantDep, service: ServiceDep) -> Memory:
    """Replace the memory's metadata (the text is derived from events and is not editable)."""
    return service.update_memory_metadata(tenant.id, memory_id, body.metadata)


@router.delete("/memories/{memory_id}", status_code=204, response_class=Response)
def delete_memory(memory_id: str, tenant: TenantDep, service: ServiceDep) -> None:
    service.delete_memory(tenant.id, memory_id)


@router.post("/documents", status_code=202, tags=["documents"])
def add_document(body: AddDocumentRequest, tenant: TenantDep, service: ServiceDep) -> JobAccepted:
    """Store a document; the worker chunks and indexes it (``chunk_size``/``chunk_overlap`` in chars)."""
    submitted = service.add_document(tenant.id, body.document(), user_id=body.user_id, space=body.space)
    return _accepted(submitted)


@router.post("/events", status_code=202, tags=["events"])
def add_event(body: AddEventRequest, tenant: TenantDep, service: ServiceDep) -> JobAccepted:
    """Record a user action; it becomes a searchable memory of the user."""
    submitted = service.add_action(
        tenant.id, body.action_input(), user_id=body.user_id, session_id=body.session_id, space=body.space
    )
    return _accepted(submitted)


@router.get("/events", tags=["events"])
def list_events(
    tenant: TenantDep,
    service: ServiceDep,
    user_id: str | None = None,
    session_id: str | None = None,
    kind: Annotated[list[EventKind] | None, Query()] = None,
    cursor: str | None = None,
    limit: int = 100,
) -> EventPage:
    """Every raw event the tenant stored (messages with or without a session, actions, documents),
    oldest first, one page at a time: what ``memhub export`` reads."""
    page = service.list_events(
        tenant.id, user_id=user_id, session_id=session_id, kinds=kind, cursor=cursor, limit=limit
    )
    return EventPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: str, tenant: TenantDep, service: ServiceDep) -> Job:
    """A submission's processing status; ``memory_ids`` lists what it produced once it succeeded."""
    return service.get_job(tenant.id, job_id)


def create_router() -> APIRouter:
    """The whole ``/v1`` surface (mounted by ``app.py``); every error answers the envelope."""
    v1 = APIRouter(prefix="/v1", responses={"default": {"model": ErrorEnvelope, "description": "Error"}})
    v1.include_router(router)
    v1.include_router(native_directory.router)
    return v1
