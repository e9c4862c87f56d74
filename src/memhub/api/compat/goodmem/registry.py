"""GoodMem's model registries — rerankers and LLMs (create/get/list/update/delete) and embedder updates.

They are configuration, not memory: each entry is a record in the tenant's ``goodmem.<kind>`` collection,
stored as the client sent it (camelCase) and echoed back with the fields the SDK requires. Credentials
are never echoed, and stored only for what memhub itself calls: a registered LLM writes the retrieve
stream's ``abstractReply`` (``llm``) and a registered reranker reorders its ``rerank`` set
(``rerank``); memhub embeds with its own model, so keeping an embedder's secret would only be a
liability.

One table (:data:`KINDS`) describes the differences between the registries, and one set of handlers,
built per kind, serves them all, so the three cannot drift apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from memhub.api.deps import ServiceDep
from memhub.core.errors import InvalidInput
from memhub.core.models import Record

from .door import TenantDep, read_json
from .labels import LABEL_UPDATES, apply_labels, listed
from .wire import check_uuid, millis

SECRET_FIELDS = frozenset({"credentials", "apiKey"})
LLM_CAPABILITIES = {
    "supportsChat": True,
    "supportsCompletion": False,
    "supportsFunctionCalling": False,
    "supportsSystemMessages": True,
    "supportsStreaming": False,
    "supportsSamplingParameters": True,
}


@dataclass(frozen=True)
class Kind:
    """One registry: its URL segment, record collection, id field, list key and required fields."""

    path: str
    collection: str
    id_field: str
    items: str
    required: tuple[str, ...] = ("displayName", "providerType", "endpointUrl", "modelIdentifier")
    defaults: dict[str, Any] = field(default_factory=dict)
    create_wrapper: str | None = None  # LLM creation answers {"llm": ..., "statuses": []}
    keeps_credentials: bool = False  # only what memhub itself calls needs its secret


RERANKERS = Kind("rerankers", "goodmem.reranker", "rerankerId", "rerankers", keeps_credentials=True)
LLMS = Kind(
    "llms",
    "goodmem.llm",
    "llmId",
    "llms",
    defaults={"apiPath": "/chat/completions", "capabilities": LLM_CAPABILITIES},
    create_wrapper="llm",
    keeps_credentials=True,
)
EMBEDDERS = Kind("embedders", "goodmem.embedder", "embedderId", "embedders")
KINDS = (RERANKERS, LLMS)


def add_routes(api: APIRouter) -> None:
    for kind in KINDS:
        base = f"/v1/{kind.path}"
        api.add_api_route(base, _create(kind), methods=["POST"], name=f"create_{kind.path}")
        api.add_api_route(base, _list(kind), methods=["GET"], name=f"list_{kind.path}")
        api.add_api_route(base + "/{item_id}", _get(kind), methods=["GET"], name=f"get_{kind.path}")
        api.add_api_route(base + "/{item_id}", _delete(kind), methods=["DELETE"], name=f"delete_{kind.path}")
    for kind in (*KINDS, EMBEDDERS):
        base = f"/v1/{kind.path}"
        api.add_api_route(base + "/{item_id}", _update(kind), methods=["PUT"], name=f"update_{kind.path}")


def render(kind: Kind, record: Record) -> dict[str, Any]:
    data = record.data
    owner = data.get("ownerId", record.tenant_id)
    public = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    return {
        "supportedModalities": ["TEXT"],
        "labels": {},
        **kind.defaults,
        **public,
        kind.id_field: record.id,
        "ownerId": owner,
        "createdAt": millis(record.created_at),
        "updatedAt": millis(record.updated_at),
        "createdById": owner,
        "updatedById": owner,
    }


def _clean(kind: Kind, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return {k: v for k, v in body.items() if kind.keeps_credentials or k not in SECRET_FIELDS}


Handler = Callable[..., Any]


def _create(kind: Kind) -> Handler:
    async def create(request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
        data = _clean(kind, await read_json(request))
        missing = [f for f in kind.required if not isinstance(data.get(f), str) or not data[f]]
        if missing:
            raise InvalidInput(f"missing required field(s): {', '.join(missing)}")
        raw_id = data.pop(kind.id_field, None)
        item_id = check_uuid(str(raw_id), kind.id_field) if raw_id else str(uuid.uuid4())
        data["ownerId"] = tenant.id
        record = await run_in_threadpool(service.add_record, tenant.id, kind.collection, item_id, data)
        out = render(kind, record)
        return {kind.create_wrapper: out, "statuses": []} if kind.create_wrapper else out

    return create


def _list(kind: Kind) -> Handler:
    def list_items(request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
        records = listed(request, service.list_records(tenant.id, kind.collection))
        return {kind.items: [render(kind, r) for r in records]}

    return list_items


def _get(kind: Kind) -> Handler:
    def get(item_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
        record = service.get_record(tenant.id, kind.collection, check_uuid(item_id, kind.id_field))
        return render(kind, record)

    return get


def _delete(kind: Kind) -> Handler:
    def delete(item_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
        service.delete_record(tenant.id, kind.collection, check_uuid(item_id, kind.id_field))
        return Response(status_code=204)

    return delete


def _update(kind: Kind) -> Handler:
    """PUT is a partial update (GoodMem's convention); labels via ``replaceLabels`` xor ``mergeLabels``."""

    async def update(
        item_id: str, request: Request, tenant: TenantDep, service: ServiceDep
    ) -> dict[str, Any]:
        changes = _clean(kind, await read_json(request))
        record_id = check_uuid(item_id, kind.id_field)

        def apply() -> Record:
            record = service.get_record(tenant.id, kind.collection, record_id)
            data = {**record.data, **apply_labels(record.data.get("labels", {}), changes)}
            if _moves(record.data, changes):  # the old secret was given for the old endpoint only
                for secret in SECRET_FIELDS:
                    data.pop(secret, None)
            data.update({k: v for k, v in changes.items() if k not in LABEL_UPDATES and k != kind.id_field})
            return service.update_record(tenant.id, kind.collection, record.id, data)

        return render(kind, await run_in_threadpool(apply))

    return update


def _moves(stored: dict[str, Any], changes: dict[str, Any]) -> bool:
    """Whether an update points the entry at another endpoint without giving credentials for it."""
    moved = "endpointUrl" in changes and changes["endpointUrl"] != stored.get("endpointUrl")
    return moved and not SECRET_FIELDS & changes.keys()
