"""GoodMem's batch memory endpoints: one result per request item, in request order.

The batch answers HTTP 200 even when some items fail; each failed item carries the code and message its
own request would have had. The work per item is the single-memory code of ``memories``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from memhub.api.deps import ServiceDep
from memhub.api.errors import from_core_error, status_for
from memhub.core.errors import InvalidInput, MemhubError
from memhub.core.service import MemoryService

from .door import TenantDep, wire_status
from .listing import select_all, selection
from .memories import content_of, create, load, remove, render
from .resources import space_of
from .wire import BatchCreate, BatchDelete, BatchGet, MemoryCreate


def add_routes(api: APIRouter) -> None:
    api.add_api_route("/v1/memories:batchCreate", batch_create, methods=["POST"])
    api.add_api_route("/v1/memories:batchGet", batch_get, methods=["POST"])
    api.add_api_route("/v1/memories:batchDelete", batch_delete, methods=["POST"])


def _failure(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        return {"code": 400, "message": str(exc.errors()[0].get("msg", "invalid request"))}
    assert isinstance(exc, MemhubError)
    return {"code": wire_status(status_for(type(exc))), "message": from_core_error(exc).message}


def batch_create(body: BatchCreate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    if not body.requests:
        raise InvalidInput("requests must not be empty")
    results = []
    for raw in body.requests:
        try:
            item = MemoryCreate.model_validate(raw)
            results.append({"success": True, "memory": create(service, tenant, item, content_of(item))})
        except (MemhubError, ValidationError) as exc:
            failure: dict[str, Any] = {"success": False, "error": _failure(exc)}
            if isinstance(raw, dict) and isinstance(raw.get("memoryId"), str):
                failure["memoryId"] = raw["memoryId"]
            results.append(failure)
    return {"results": results}


def batch_get(body: BatchGet, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    if not body.memory_ids:
        raise InvalidInput("memoryIds must not be empty")
    results = []
    for memory_id in body.memory_ids:
        try:
            record = load(service, tenant.id, memory_id)
            memory = render(
                service,
                tenant.id,
                record,
                content=body.include_content,
                history=body.include_processing_history,
            )
            results.append({"success": True, "memoryId": memory_id, "memory": memory})
        except MemhubError as exc:
            results.append({"success": False, "memoryId": memory_id, "error": _failure(exc)})
    return {"results": results}


def batch_delete(body: BatchDelete, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """Each selector is one memory id or a filter selector (space + optional status and filter)."""
    if not body.requests:
        raise InvalidInput("requests must not be empty")
    results: list[dict[str, Any]] = []
    for index, selector in enumerate(body.requests):
        try:
            result = _delete_selected(service, tenant.id, selector.memory_id, selector.filter_selector)
            results.append({"success": True, "requestIndex": index, **result})
        except MemhubError as exc:
            failure = {"success": False, "requestIndex": index, "deletedCount": 0, "error": _failure(exc)}
            if selector.memory_id:
                failure["memoryId"] = selector.memory_id
            results.append(failure)
    return {"results": results, "totalDeleted": sum(r["deletedCount"] for r in results)}


def _delete_selected(
    service: MemoryService, tenant_id: str, memory_id: str | None, selector: Any
) -> dict[str, Any]:
    if (memory_id is None) == (selector is None):
        raise InvalidInput("each request needs exactly one of memoryId and filterSelector")
    if memory_id is not None:
        remove(service, tenant_id, load(service, tenant_id, memory_id))
        return {"memoryId": memory_id, "deletedCount": 1}
    space = space_of(service, tenant_id, selector.space_id)
    items = select_all(service, tenant_id, selection(space.id, selector.status_filter, selector.filter))
    for record, _ in items:
        remove(service, tenant_id, record)
    return {"deletedCount": len(items)}
