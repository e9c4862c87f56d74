"""Memsy's onboarding hierarchy: ``/orgs``, ``/roles``, ``/teams`` customisation records.

memhub has no org/role/team nouns: these records are kept with the service's generic per-tenant
records (collections ``memsy.org``, ``memsy.role``, ``memsy.team``). A tenant holds any number of orgs
(``orgs.create("acme", …)`` whatever the tenant's name); the key's own org is the tenant's name, where
ingested memories live. An ``org_id`` that is neither is refused with 403 before anything is read
(``wire.check_org``). Role and team ids are minted here (``role_<uuid>``), never derived from the name;
each role/team belongs to the org it was created in.

The ``promotion_prompt`` is what Memsy's extractor would use to decide what to promote. memhub promotes
by the event's tags instead (``routes.search``: an event ingested with ``role_id``/``team_id`` makes its
memories visible to searches naming that role/team), and has no LLM to write prompts with, so the prompt
is generated from a fixed template — ``prompt_meta.generator`` says so — and kept verbatim when the
caller sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from memhub.api.deps import ServiceDep, TenantDep
from memhub.core import ids
from memhub.core.errors import NotFound
from memhub.core.models import Record, Tenant
from memhub.core.service import MemoryService

from . import translate as tr
from .wire import OrgMismatch, RecordIn, RecordPatch
from .wire import check_org as _check_org

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


def check_org(service: MemoryService, tenant: Tenant, org_id: str | None) -> str:
    """The org named (the key's own if none); 403 unless it is the key's own or one the tenant created."""
    return _check_org(tenant, org_id, lambda org: _exists(service, tenant.id, org))


def _exists(service: MemoryService, tenant_id: str, org_id: str) -> bool:
    try:
        service.get_record(tenant_id, ORG.collection, org_id)
    except NotFound:
        return False
    return True


def _org_of(record: Record, tenant: Tenant) -> str:
    """A role's or team's org (records from before orgs were several belong to the key's own)."""
    return str(record.data.get("org_id") or tenant.name)


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
    level: Level, record_id: str, org_id: str, body: RecordIn, tenant: Tenant, service: MemoryService
) -> dict[str, Any]:
    data = {"name": body.name, "focus": body.focus, **_prompt_data(level, body.name, body.focus, service)}
    if level is not ORG:
        data["org_id"] = org_id
    return _out(level, service.add_record(tenant.id, level.collection, record_id, data), org_id)


def _current(
    level: Level, record_id: str, org_id: str | None, tenant: Tenant, service: MemoryService
) -> tuple[Record, str]:
    """The record and its org; naming another org than the record's is a 403, as for a foreign org."""
    record = service.get_record(tenant.id, level.collection, record_id)
    if level is ORG:
        return record, record.id
    owner = _org_of(record, tenant)
    if org_id is not None and org_id != owner:
        raise OrgMismatch(f"{level.id_key} {record_id!r} belongs to org {owner!r}, not {org_id!r}")
    return record, owner


def _get(
    level: Level, record_id: str, org_id: str | None, tenant: Tenant, service: MemoryService
) -> dict[str, Any]:
    record, owner = _current(level, record_id, org_id, tenant, service)
    return _out(level, record, owner)


def _update(
    level: Level,
    record_id: str,
    org_id: str | None,
    body: RecordPatch,
    tenant: Tenant,
    service: MemoryService,
) -> dict[str, Any]:
    """Only the sent keys change; a PATCH of name/focus keeps the prompt; ``{}`` writes nothing."""
    current, owner = _current(level, record_id, org_id, tenant, service)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        return _out(level, current, owner)
    if "promotion_prompt" in changes:
        changes["prompt_meta"] = {"generator": "caller", "generated_at": tr.iso(service.now())}
    updated = service.update_record(tenant.id, level.collection, record_id, {**current.data, **changes})
    return _out(level, updated, owner)


def _regenerate(
    level: Level, record_id: str, org_id: str | None, tenant: Tenant, service: MemoryService
) -> dict[str, Any]:
    current, owner = _current(level, record_id, org_id, tenant, service)
    prompt = _prompt_data(level, current.data["name"], current.data["focus"], service)
    updated = service.update_record(tenant.id, level.collection, record_id, {**current.data, **prompt})
    return _out(level, updated, owner)


def _delete(
    level: Level, record_id: str, org_id: str | None, tenant: Tenant, service: MemoryService
) -> Response:
    """Only the customisation record goes; memories carrying its id are untouched."""
    _current(level, record_id, org_id, tenant, service)
    service.delete_record(tenant.id, level.collection, record_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# orgs: any number per tenant, each the tenant's own record


@router.get("/orgs")
def list_orgs(tenant: TenantDep, service: ServiceDep) -> list[dict[str, Any]]:
    return [_out(ORG, r, r.id) for r in service.list_records(tenant.id, ORG.collection)]


@router.post("/orgs")
def create_org(body: RecordIn, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """Any org id (409 if the tenant already has it): orgs are per tenant, so names never collide."""
    return _create(ORG, body.org_id, body.org_id, body, tenant, service)


@router.get("/orgs/{org_id}")
def get_org(org_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _get(ORG, check_org(service, tenant, org_id), None, tenant, service)


@router.patch("/orgs/{org_id}")
def update_org(org_id: str, body: RecordPatch, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _update(ORG, check_org(service, tenant, org_id), None, body, tenant, service)


@router.post("/orgs/{org_id}/regenerate-prompt")
def regenerate_org_prompt(org_id: str, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    return _regenerate(ORG, check_org(service, tenant, org_id), None, tenant, service)


@router.delete("/orgs/{org_id}", status_code=204, response_class=Response)
def delete_org(org_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    return _delete(ORG, check_org(service, tenant, org_id), None, tenant, service)


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
        org = check_org(service, tenant, org_id)
        mine = [r for r in service.list_records(tenant.id, level.collection) if _org_of(r, tenant) == org]
        return [_out(level, r, org) for r in mine[offset : offset + limit]]

    def create(body: RecordIn, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
        org = check_org(service, tenant, body.org_id)
        return _create(level, f"{level.name}_{ids.new_id().replace('-', '')}", org, body, tenant, service)

    def get(
        record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(service, tenant, org_id)
        return _get(level, record_id, org_id, tenant, service)

    def update(
        record_id: str, body: RecordPatch, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(service, tenant, org_id)
        return _update(level, record_id, org_id, body, tenant, service)

    def regenerate(
        record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None
    ) -> dict[str, Any]:
        check_org(service, tenant, org_id)
        return _regenerate(level, record_id, org_id, tenant, service)

    def delete(record_id: str, tenant: TenantDep, service: ServiceDep, org_id: str | None = None) -> Response:
        check_org(service, tenant, org_id)
        return _delete(level, record_id, org_id, tenant, service)

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
