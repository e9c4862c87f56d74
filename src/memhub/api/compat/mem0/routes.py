"""The mem0 Platform routes: 2.x paths (``/v3/...``) and 1.x paths (``/v1``, ``/v2``) side by side.

Every route's errors are rendered in mem0's shape (``error_route``); the app's per-prefix renderer
answers the rest (unknown paths, 413s) the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from memhub.api.compat.adapter import error_route
from memhub.api.deps import ServiceDep
from memhub.core import ids
from memhub.core.errors import InvalidInput, NotSupported
from memhub.core.models import JobStatus
from memhub.core.service import MemoryService
from memhub.settings import Settings

from . import actions
from . import translate as t
from .errors import add_unsupported_routes, render_error
from .wire import (
    ENTITY_FIELDS,
    UNHONOURED_LIST,
    UNHONOURED_SEARCH,
    UNHONOURED_UPDATE,
    AddBody,
    BatchDelete,
    BatchUpdate,
    ListBody,
    SearchBody,
    TenantDep,
    UpdateBody,
    caller_tenant,
)


def create_router(settings: Settings) -> APIRouter:
    """The routes, relative to the prefix (``settings.mem0_prefix``); no setting besides the prefix."""
    api = APIRouter(route_class=error_route(render_error, name="mem0"), tags=["mem0 compatibility"])
    # first: the fixed paths among them (/v1/memories/events/) must win over /v1/memories/{memory_id}/
    add_unsupported_routes(api, [Depends(caller_tenant)])
    r = api.add_api_route
    r("/v1/ping/", ping, methods=["GET"], summary="Check the key (the clients call it on start)")
    r("/v3/memories/add/", add_v3, methods=["POST"], summary="Add memories (2.x)")
    r("/v1/memories/", add_v1, methods=["POST"], summary="Add memories (1.x)")
    r("/v1/event/{event_id}/", event, methods=["GET"], summary="Status of an add")
    r("/v3/memories/search/", search_v3, methods=["POST"], summary="Search (2.x)")
    r("/v2/memories/search/", search_v2, methods=["POST"], summary="Search (1.x)")
    r("/v1/memories/search/", search_v2, methods=["POST"], summary="Search (older 1.x)")
    r("/v3/memories/", list_v3, methods=["POST"], summary="List memories, paged (2.x)")
    r("/v2/memories/", list_v2, methods=["POST"], summary="List memories (1.x)")
    r("/v1/memories/", list_v1, methods=["GET"], summary="List memories (older 1.x)")
    r("/v1/memories/", delete_all, methods=["DELETE"], summary="Delete the memories of entities")
    r("/v1/memories/{memory_id}/", get_memory, methods=["GET"], summary="Get a memory")
    r("/v1/memories/{memory_id}/", update_memory, methods=["PUT"], summary="Update a memory's text/metadata")
    r("/v1/memories/{memory_id}/", delete_memory, methods=["DELETE"], summary="Delete a memory")
    r("/v1/memories/{memory_id}/history/", history, methods=["GET"], summary="A memory's versions")
    r("/v1/entities/", entities, methods=["GET"], summary="Users, agents, apps and runs")
    r(
        "/v2/entities/{entity_type}/{entity_id}/",
        delete_entity,
        methods=["DELETE"],
        summary="Forget an entity",
    )
    r("/v1/entities/{entity_type}/{entity_id}/", delete_entity, methods=["DELETE"], summary="Forget (1.x)")
    r("/v1/batch/", batch_update, methods=["PUT"], summary="Update up to 1000 memories")
    r("/v1/batch/", batch_delete, methods=["DELETE"], summary="Delete up to 1000 memories")
    return api


def ping(tenant: TenantDep) -> dict[str, Any]:
    """What the clients' constructors check: a status and the org/project the key belongs to."""
    return {"status": "ok", "org_id": tenant.id, "project_id": tenant.id, "user_email": None}


# ---------------------------------------------------------------------------------------------------
# add


def add_v3(body: AddBody, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    job, waited = actions.add(service, tenant.id, body)
    answer: dict[str, Any] = {"event_id": job.id, "status": t.EVENT_STATUS[job.status]}
    if waited:
        answer["message"] = _add_message(job.status)
        answer["results"] = actions.job_results(service, tenant.id, job)
    return answer


def add_v1(body: AddBody, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """1.x: ``{"results": [...]}`` — queued (async_mode, the default) or the stored memories."""
    job, waited = actions.add(service, tenant.id, body)
    if waited:
        return {"results": actions.job_results(service, tenant.id, job)}
    queued = {"message": _add_message(job.status), "status": t.EVENT_STATUS[job.status], "event_id": job.id}
    return {"results": [queued]}


def _add_message(status: JobStatus) -> str:
    if status is JobStatus.SUCCEEDED:
        return "Memories stored."
    if status is JobStatus.FAILED:
        return "Memory processing failed; see the event for the error."
    return "Memory processing has been queued for background execution"


def event(event_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    job = service.get_job(tenant.id, event_id)
    results = actions.job_results(service, tenant.id, job) if job.status is JobStatus.SUCCEEDED else []
    return t.event_object(job, results)


# ---------------------------------------------------------------------------------------------------
# search and listing


def search_v3(body: SearchBody, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    actions.refuse_unhonoured(body, UNHONOURED_SEARCH)
    return {"results": actions.search(service, tenant.id, body)}


def search_v2(body: SearchBody, tenant: TenantDep, service: ServiceDep) -> list[dict[str, Any]]:
    actions.refuse_unhonoured(body, UNHONOURED_SEARCH)
    return actions.search(service, tenant.id, body)


def list_v3(
    request: Request,
    tenant: TenantDep,
    service: ServiceDep,
    body: ListBody | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> dict[str, Any]:
    return _paged(request, service, tenant.id, body or ListBody(), page, page_size)


def list_v2(
    request: Request,
    tenant: TenantDep,
    service: ServiceDep,
    body: ListBody | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Any:
    """1.x: a plain list, or mem0's paged object when ``page``/``page_size`` are given."""
    listing = body or ListBody()
    if page is None and page_size is None and listing.page is None and listing.page_size is None:
        return _paged(request, service, tenant.id, listing, 1, service.limits.max_page_size)["results"]
    return _paged(request, service, tenant.id, listing, page, page_size)


def list_v1(
    request: Request,
    tenant: TenantDep,
    service: ServiceDep,
    user_id: str | None = None,
    agent_id: str | None = None,
    app_id: str | None = None,
    run_id: str | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Any:
    listing = ListBody(user_id=user_id, agent_id=agent_id, app_id=app_id, run_id=run_id)
    if page is None and page_size is None:
        return _paged(request, service, tenant.id, listing, 1, service.limits.max_page_size)["results"]
    return _paged(request, service, tenant.id, listing, page, page_size)


def _paged(
    request: Request,
    service: MemoryService,
    tenant_id: str,
    body: ListBody,
    page: int | None,
    page_size: int | None,
) -> dict[str, Any]:
    actions.refuse_unhonoured(body, UNHONOURED_LIST)
    number = page or body.page or 1
    size = page_size or body.page_size or actions.DEFAULT_PAGE_SIZE
    if number < 1 or size < 1:
        raise InvalidInput("page and page_size must be at least 1")
    total, results = actions.list_page(service, tenant_id, body, number, size)
    last = (total + size - 1) // size
    return {
        "count": total,
        "next": _page_url(request, number + 1, size) if number < last else None,
        "previous": _page_url(request, number - 1, size) if number > 1 else None,
        "results": results,
    }


def _page_url(request: Request, number: int, size: int) -> str:
    return str(request.url.include_query_params(page=number, page_size=size))


# ---------------------------------------------------------------------------------------------------
# one memory


def get_memory(memory_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return t.memory_object(actions.current(service, tenant.id, memory_id))


def update_memory(memory_id: str, body: UpdateBody, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    actions.refuse_unhonoured(body, UNHONOURED_UPDATE)
    if body.text is None and body.metadata is None:
        raise InvalidInput("update needs text or metadata")
    memory = actions.update(service, tenant.id, memory_id, body.text, body.metadata)
    return t.memory_object(memory)


def delete_memory(
    memory_id: str, tenant: TenantDep, service: ServiceDep, delete_linked: bool = False
) -> dict[str, Any]:
    cascade = actions.delete(service, tenant.id, memory_id, delete_linked)
    answer: dict[str, Any] = {"message": "Memory deleted successfully!"}
    if delete_linked:
        answer["cascade_count"] = cascade
    return answer


def history(memory_id: str, tenant: TenantDep, service: ServiceDep) -> list[dict[str, Any]]:
    return actions.history(service, tenant.id, memory_id)


# ---------------------------------------------------------------------------------------------------
# many memories, entities, batches


def delete_all(
    request: Request,
    tenant: TenantDep,
    service: ServiceDep,
    user_id: str | None = None,
    agent_id: str | None = None,
    app_id: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    if any(name == "metadata" or name.startswith("metadata[") for name in request.query_params):
        raise NotSupported(
            "deleting by metadata is not supported by memhub (delete by entity ids or by memory)"
        )
    given = dict(zip(ENTITY_FIELDS, (user_id, agent_id, app_id, run_id), strict=True))
    chosen = {k: v for k, v in given.items() if v}
    count = actions.delete_all(service, tenant.id, chosen)
    # mem0 deletes in the background and names an event; memhub has deleted already.
    return {"message": f"Memories deleted successfully! ({count})", "event_id": ids.new_id()}


def entities(tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    results = actions.entities(service, tenant.id)
    return {"count": len(results), "next": None, "previous": None, "results": results}


def delete_entity(entity_type: str, entity_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    actions.delete_entity(service, tenant.id, entity_type, entity_id)
    return {"message": "Entity deleted successfully!"}


def batch_update(body: BatchUpdate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    for item in body.memories:  # all exist before any changes: a bad id changes nothing
        actions.current(service, tenant.id, item.memory_id)
    for item in body.memories:
        if item.text is None and item.metadata is None:
            raise InvalidInput(f"memory {item.memory_id}: give text or metadata")
        actions.update(service, tenant.id, item.memory_id, item.text, item.metadata)
    return {"message": f"Successfully updated {len(body.memories)} memories"}


def batch_delete(body: BatchDelete, tenant: TenantDep, service: ServiceDep) -> JSONResponse:
    live = [actions.current(service, tenant.id, item.memory_id) for item in body.memories]
    for memory in live:
        service.delete_memory(tenant.id, memory.id)
    return JSONResponse({"message": f"Successfully deleted {len(live)} memories"})
