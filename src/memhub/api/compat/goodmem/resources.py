"""GoodMem system info, embedders and spaces, translated onto memhub spaces and records.

* **Spaces** are memhub spaces (ids are UUIDs already). What GoodMem knows about a space and memhub
  has no column for — labels, the embedder list with retrieval weights, the default chunking
  configuration, the owner — is kept in the space's metadata under ``"goodmem"``.
* **Embedders** are registry entries the client creates before a space; memhub embeds with its own
  configured model whatever the provider says (spec §7.4 [decision]), so an embedder is configuration:
  a record in the tenant's ``goodmem.embedder`` collection, echoed back as the client sent it.
* **Listing** spaces pages over the tenant's spaces in a stable order with an opaque offset token.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from memhub._version import __version__
from memhub.api.deps import ServiceDep
from memhub.core.errors import InvalidInput, NotFound, NotSupported
from memhub.core.models import Space
from memhub.core.service import MemoryService

from .door import TenantDep, query, query_int, query_labels, read_json
from .labels import apply_labels, listed
from .wire import (
    DEFAULT_CHUNKING,
    EmbedderCreate,
    SpaceCreate,
    check_uuid,
    chunk_sizes,
    echo_chunking,
    embedder_json,
    space_json,
)

EMBEDDERS = "goodmem.embedder"
MEMORIES = "goodmem.memory"
SPACE_PAGE = (50, 1000)  # default and largest page of spaces


def add_routes(api: APIRouter) -> None:
    api.add_api_route("/v1/system/info", system_info, methods=["GET"], summary="Version (no key needed)")
    api.add_api_route("/v1/system/init", system_init, methods=["POST"], summary="Bootstrap (no key needed)")
    api.add_api_route("/v1/embedders", create_embedder, methods=["POST"])
    api.add_api_route("/v1/embedders", list_embedders, methods=["GET"])
    api.add_api_route("/v1/embedders/{embedder_id}", get_embedder, methods=["GET"])
    api.add_api_route("/v1/embedders/{embedder_id}", delete_embedder, methods=["DELETE"])
    api.add_api_route("/v1/spaces", create_space, methods=["POST"])
    api.add_api_route("/v1/spaces", list_spaces, methods=["GET"])
    api.add_api_route("/v1/spaces/{space_id}", get_space, methods=["GET"])
    api.add_api_route("/v1/spaces/{space_id}", update_space, methods=["PUT"])
    api.add_api_route("/v1/spaces/{space_id}", delete_space, methods=["DELETE"])


def system_info() -> dict[str, Any]:
    """Unauthenticated: the SDK's liveness probe. ``major/minor/patch`` from memhub's own version."""
    numbers = [int(p) if p.isdigit() else 0 for p in __version__.split("+")[0].split(".")[:3]]
    major, minor, patch = [*numbers, 0, 0, 0][:3]
    return {
        "version": __version__,
        "major": major,
        "minor": minor,
        "patch": patch,
        "dirty": False,
        "capabilities": {"server": "memhub"},
    }


def system_init() -> dict[str, Any]:
    """memhub creates its first key when it first starts (``<data>/admin-key``) and never mints keys
    for an unauthenticated caller, so the server is always already initialised."""
    return {
        "alreadyInitialized": True,
        "message": "memhub created its first API key at start-up: see <data>/admin-key or 'memhub keys'",
    }


# ---------------------------------------------------------------------------------------------------
# embedders


def create_embedder(body: EmbedderCreate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    embedder_id = check_uuid(body.embedder_id, "embedderId") if body.embedder_id else str(uuid.uuid4())
    data = body.model_dump(by_alias=True, exclude_none=True, exclude={"embedder_id"})
    data["ownerId"] = tenant.id
    return embedder_json(service.add_record(tenant.id, EMBEDDERS, embedder_id, data))


def list_embedders(request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return {
        "embedders": [embedder_json(r) for r in listed(request, service.list_records(tenant.id, EMBEDDERS))]
    }


def get_embedder(embedder_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    record = service.get_record(tenant.id, EMBEDDERS, check_uuid(embedder_id, "embedder id"))
    return embedder_json(record)


def delete_embedder(embedder_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    service.delete_record(tenant.id, EMBEDDERS, check_uuid(embedder_id, "embedder id"))
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# spaces


def create_space(body: SpaceCreate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """A memhub space whose metadata carries the GoodMem-only fields; every embedder must exist."""
    if body.space_id is not None:
        # Space ids are one namespace across tenants in the store, so honouring a chosen id would answer
        # 409 for an id another tenant holds and 200 for a free one: an existence oracle across tenants.
        raise NotSupported(
            "memhub assigns space ids; create the space without spaceId and use the id it returns"
        )
    if not body.space_embedders:
        raise InvalidInput("spaceEmbedders must name at least one embedder")
    embedders = []
    for entry in body.space_embedders:
        embedder_id = check_uuid(entry.embedder_id, "spaceEmbedders.embedderId")
        service.get_record(tenant.id, EMBEDDERS, embedder_id)
        embedders.append(
            {"embedderId": embedder_id, "defaultRetrievalWeight": entry.default_retrieval_weight}
        )
    chunking = body.default_chunking_config or DEFAULT_CHUNKING
    chunk_sizes(chunking)  # validate now, not at the first memory
    extra = {
        "labels": body.labels,
        "spaceEmbedders": embedders,
        "defaultChunkingConfig": echo_chunking(chunking),
        "ownerId": body.owner_id or tenant.id,
    }
    return space_json(service.create_space(tenant.id, body.name, {"goodmem": extra}))


async def update_space(
    space_id: str, request: Request, tenant: TenantDep, service: ServiceDep
) -> dict[str, Any]:
    """Partial update despite PUT: ``name`` and labels (``replaceLabels`` xor ``mergeLabels``);
    embedders, chunking defaults and owner are immutable, as in GoodMem."""
    changes = await read_json(request)
    if not isinstance(changes, dict):
        raise InvalidInput("the request body must be a JSON object")
    name = changes.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInput("name must be a non-empty string")

    def apply() -> Space:
        space = service.get_space(tenant.id, check_uuid(space_id, "space id"))
        extra = dict(space.metadata.get("goodmem") or {})
        extra.update(apply_labels(extra.get("labels", {}), changes))
        metadata = {**space.metadata, "goodmem": extra}
        return service.update_space(tenant.id, space.id, name=name, metadata=metadata)

    return space_json(await run_in_threadpool(apply))


def get_space(space_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return space_json(service.get_space(tenant.id, check_uuid(space_id, "space id")))


def delete_space(space_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    """Deletes the space (memhub cascades to its memories) and the GoodMem records of its memories."""
    sid = check_uuid(space_id, "space id")
    service.get_space(tenant.id, sid)
    records = [r for r in service.list_records(tenant.id, MEMORIES) if r.data.get("spaceId") == sid]
    service.delete_space(tenant.id, sid)
    for record in records:
        service.delete_blobs(tenant.id, record.id)
        try:
            service.delete_record(tenant.id, MEMORIES, record.id)
        except NotFound:
            continue
    return Response(status_code=204)


def list_spaces(request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    spaces = _matching_spaces(request, service.list_spaces(tenant.id))
    descending = (query(request, "sort_order") or "DESCENDING").upper() != "ASCENDING"
    sort_by = query(request, "sort_by") or "created_time"
    spaces.sort(key=lambda s: (_space_sort_key(s, sort_by), s.id), reverse=descending)
    size = clamp_page(query_int(request, "max_results"), *SPACE_PAGE)
    start = decode_token(query(request, "next_token"))
    page = spaces[start : start + size]
    out: dict[str, Any] = {"spaces": [space_json(s) for s in page]}
    if start + size < len(spaces):
        out["nextToken"] = encode_token(start + size)
    return out


def _matching_spaces(request: Request, spaces: list[Space]) -> list[Space]:
    labels = query_labels(request)
    name_filter = query(request, "name_filter")
    owner = query(request, "owner_id")

    def keep(space: Space) -> bool:
        extra = space.metadata.get("goodmem") or {}
        have = extra.get("labels", {})
        if any(have.get(k) != v for k, v in labels.items()):
            return False
        if name_filter and not fnmatch.fnmatchcase(space.name, name_filter):
            return False
        return not owner or (extra.get("ownerId") or space.tenant_id) == owner

    return [s for s in spaces if keep(s)]


def _space_sort_key(space: Space, sort_by: str) -> Any:
    if sort_by.lower() == "name":
        return space.name
    if sort_by.lower() in ("created_time", "updated_time", "created_at", "updated_at"):
        return space.created_at
    raise InvalidInput("sort_by must be created_time, updated_time or name")


# ---------------------------------------------------------------------------------------------------
# pagination shared with memories


def clamp_page(requested: int | None, default: int, largest: int) -> int:
    """``max_results``: absent or 0 means the default; otherwise clamped to [1, largest]."""
    if not requested:
        return default
    return min(max(requested, 1), largest)


def encode_token(offset: int) -> str:
    """URL-safe base64 without padding, as GoodMem documents its opaque tokens."""
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput("next_token is not a token this server issued") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput("next_token is not a token this server issued")
    return offset


def space_of(service: MemoryService, tenant_id: str, space_id: str) -> Space:
    """The space a GoodMem request names by id (400 if not a UUID, 404 if absent)."""
    return service.get_space(tenant_id, check_uuid(space_id, "spaceId"))
