"""Memsy's onboarding hierarchy: ``/orgs``, ``/roles``, ``/teams`` customisation records.

memhub has no org/role/team nouns: these records are kept with the service's generic per-tenant
records (collections ``memsy.org``, ``memsy.role``, ``memsy.team``). One tenant is one org, so the org
record's id is the tenant's name, and any other ``org_id`` is refused with 403 before anything is read.
Role and team ids are minted here (``role_<uuid>``), never derived from the name.

The ``promotion_prompt`` is what Memsy's extractor would use to promote an actor's memories to the
role/team/org level. memhub does not promote yet (memories stay actor-scoped), and has no LLM to write
prompts with, so it is generated from a fixed template — ``prompt_meta.generator`` says so — and kept
verbatim when the caller sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from memhub.api.deps import ServiceDep, TenantDep
from memhub.core import ids
from memhub.core.models import Record, Tenant
from memhub.core.service import MemoryService

from . import translate as tr
from .wire import RecordIn, RecordPatch, check_org

router = APIRouter()


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy: ``org``, ``role`` or ``team``."""

    name: str

    @property
    def collection(self) -> str:
        return f"memsy.{self.name}"

    @property
    def id_key(self) -> str:
        return f"{self.name}_id"


ORG, ROLE, TEAM = Level("org"), Level("role"), Level("team")


def template_prompt(level: Level, name: str, focus: str) -> str:
    return (
        f"Promote to the {level.name} '{name}' the memories that matter for its focus: {focus}. "
        "Keep durable facts, decisions, preferences and norms that hold beyond one conversation; "
        "leave out small talk and anything only true for one person."
    )


def _prompt_data(level: Level, name: str, focus: str, service: MemoryService) -> dict[str, Any]:
    meta = {"generator": "template", "generated_at": tr.iso(service.now())}
    return {"promotion_prompt": template_prompt(level, name, focus), "prompt_meta": meta}


def _out(level: Level, record: Record, org_id: str) -> dict[str, Any]:
    data = record.data
    return {
        level.id_key: record.id,
        "org_id": org_id,
        "name": data["name"],
        "focus": data["focus"],
        "promotion_prompt": data["promotion_prompt"],
        "prompt_meta": data.get("prompt_meta"),
        "created_at": tr.iso(record.created_at),
        "updated_at": tr.iso(record.updated_at),
    }


# ---------------------------------------------------------------------------------------------------
# the operations, shared by the three levels


def _create(
    level: Level, record_id: str, body: RecordIn, tenant: Tenant, service: MemoryService
) -> dict[str, Any]:
    data = {"name": body.name, "focus": body.focus, **_prompt_data(level, body.name, body.focus, service)}
    return _out(level, service.add_record(tenant.id, level.collection, record_id, data), tenant.name)


def _get(level: Level, record_id: str, tenant: Tenant, service: MemoryService) -> dict[str, Any]:
    return _out(level, service.get_record(tenant.id, level.collection, record_id), tenant.name)


def _update(
    level: Level, record_id: str, body: RecordPatch, tenant: Tenant, service: MemoryService
) -> dict[str, Any]:
    """Only the sent keys change; a PATCH of name/focus keeps the prompt; ``{}`` writes nothing."""
    current = service.get_record(tenant.id, level.collection, record_id)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        return _out(level, current, tenant.name)
    if "promotion_prompt" in changes:
        changes["prompt_meta"] = {"generator": "caller", "generated_at": tr.iso(service.now())}
    updated = service.update_record(tenant.id, level.collection, record_id, {**current.data, **changes})
    return _out(level, updated, tenant.name)


def _regenerate(level: Level, record_id: str, tenant: Tenant, service: MemoryService) -> dict[str, Any]:
    current = service.get_record(tenant.id, level.collection, record_id)
    prompt = _prompt_data(level, current.data["name"], current.data["focus"], service)
    updated = service.update_record(tenant.id, level.collection, record_id, {**current.data, **prompt})
    return _out(level, updated, tenant.name)


def _delete(level: Level, record_id: str, tenant: Tenant, service: MemoryService) -> Response:
    """Only the customisation record goes; memories carrying its id are untouched."""
    service.delete_record(tenant.id, level.collection, record_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# orgs: at most one per tenant, its id the tenant's name


@router.get("/orgs")
def list_orgs(tenant: TenantDep, service: ServiceDep) -> list[dict[str, Any]]:
    return [_out(ORG, r, tenant.name) for r in service.list_records(tenant.id, ORG.collection)]


@router.post("/orgs")
def create_org(body: RecordIn, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _create(ORG, check_org(tenant, body.org_id), body, tenant, service)


@router.get("/orgs/{org_id}")
def get_org(org_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _get(ORG, check_org(tenant, org_id), tenant, service)


@router.patch("/orgs/{org_id}")
def update_org(org_id: str, body: RecordPatch, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _update(ORG, check_org(tenant, org_id), body, tenant, service)


@router.post("/orgs/{org_id}/regenerate-prompt")
def regenerate_org_prompt(org_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _regenerate(ORG, check_org(tenant, org_id), tenant, service)


@router.delete("/orgs/{org_id}", status_code=204, response_class=Response)
def delete_org(org_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    return _delete(ORG, check_org(tenant, org_id), tenant, service)


# ---------------------------------------------------------------------------------------------------
# roles and teams: the same routes, registered once per level


def _add_level_routes(level: Level) -> None:
    path = f"/{level.name}s"
    item = f"{path}/{{record_id}}"

    def list_(
        org_id: str,
        tenant: TenantDep,
        service: ServiceDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        check_org(tenant, org_id)
        records = service.list_records(tenant.id, level.collection)[offset : offset + limit]
        return [_out(level, r, tenant.name) for r in records]

    def create(body: RecordIn, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
        check_org(tenant, body.org_id)
        return _create(level, f"{level.name}_{ids.new_id().replace('-', '')}", body, tenant, service)

    def get(
        record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(tenant, org_id)
        return _get(level, record_id, tenant, service)

    def update(
        record_id: str, body: RecordPatch, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(tenant, org_id)
        return _update(level, record_id, body, tenant, service)

    def regenerate(
        record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(tenant, org_id)
        return _regenerate(level, record_id, tenant, service)

    def delete(record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None) -> Response:
        check_org(tenant, org_id)
        return _delete(level, record_id, tenant, service)

    router.add_api_route(path, list_, methods=["GET"], name=f"list_{level.name}s")
    router.add_api_route(path, create, methods=["POST"], name=f"create_{level.name}")
    router.add_api_route(item, get, methods=["GET"], name=f"get_{level.name}")
    router.add_api_route(item, update, methods=["PATCH"], name=f"update_{level.name}")
    router.add_api_route(
        f"{item}/regenerate-prompt", regenerate, methods=["POST"], name=f"regenerate_{level.name}"
    )
    router.add_api_route(
        item,
        delete,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        name=f"delete_{level.name}",
    )


_add_level_routes(ROLE)
_add_level_routes(TEAM)
