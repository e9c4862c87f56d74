"""GoodMem API keys and users, mapped onto memhub's tenant keys and the tenant itself.

* **API keys** are memhub keys of the caller's tenant (``service.create_api_key``: a random secret
  shown once, only its SHA-256 stored), so a key made here authenticates at every door. What GoodMem
  adds and memhub keys have no column for — labels, and whether the key was deleted through this
  door — is a record in ``goodmem.apikey`` under the key's id. ``status: INACTIVE`` revokes the key;
  memhub revocation is permanent, so re-activating is a 400. Deleting revokes it and hides it (memhub
  keeps revoked keys for audit). Expiry, ``validFrom``, scoped ceilings and caller-chosen ids have no
  memhub counterpart and are a 501 rather than silently ignored (a key that outlives its stated expiry
  would be a security bug).
* **Only admin keys manage keys** (403 for a member key): otherwise any key could mint keys and revoke
  every other one, the admin's included. A key made here is a ``member`` unless the tenant has no live
  admin key.
* **Users**: memhub's principal is the tenant; ``users.me`` and ``users.get(id=<tenant id>)`` describe
  it (``email`` is empty: tenants have none). Creating and editing users is a 501 (``unsupported``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from memhub.api.deps import ServiceDep
from memhub.core.errors import InvalidInput, NotFound, NotSupported
from memhub.core.models import ApiKey, Record, Tenant
from memhub.core.service import MemoryService

from .door import AdminDep, TenantDep, query, query_int, read_json
from .labels import apply_labels, check_labels
from .resources import clamp_page, decode_token, encode_token
from .wire import check_uuid, millis

KEYS = "goodmem.apikey"
UNSUPPORTED_KEY_FIELDS = {
    "expiresAt": "memhub keys do not expire; revoke them instead (status INACTIVE or delete)",
    "validFrom": "memhub keys are valid from creation",
    "ceiling": "memhub keys carry their tenant's full rights; scoped ceilings are not supported",
    "apiKeyId": "memhub chooses key ids",
}


def add_routes(api: APIRouter) -> None:
    api.add_api_route("/v1/apikeys", create_key, methods=["POST"])
    api.add_api_route("/v1/apikeys", list_keys, methods=["GET"])
    api.add_api_route("/v1/apikeys/{key_id}", get_key, methods=["GET"])
    api.add_api_route("/v1/apikeys/{key_id}", update_key, methods=["PUT"])
    api.add_api_route("/v1/apikeys/{key_id}", delete_key, methods=["DELETE"])
    api.add_api_route("/v1/users/me", me, methods=["GET"])
    api.add_api_route("/v1/users", list_users, methods=["GET"])
    api.add_api_route("/v1/users/{user_id}", get_user, methods=["GET"])


# ---------------------------------------------------------------------------------------------------
# API keys


def _check_create(body: dict[str, Any], tenant: Tenant) -> None:
    for name, reason in UNSUPPORTED_KEY_FIELDS.items():
        if body.get(name) not in (None, [], 0):
            raise NotSupported(f"{name}: {reason}")
    if body.get("authorityMode") not in (None, "INHERIT_SUBJECT"):
        raise NotSupported("authorityMode: only INHERIT_SUBJECT (the tenant's rights) is supported")
    subject = body.get("subjectPrincipalId")
    if subject is not None and check_uuid(str(subject), "subjectPrincipalId") != tenant.id:
        raise NotSupported("subjectPrincipalId: memhub keys belong to the calling tenant")


async def create_key(request: Request, tenant: AdminDep, service: ServiceDep) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    _check_create(body, tenant)
    labels = check_labels(body.get("labels") or {})

    def create() -> dict[str, Any]:
        key, secret = service.create_api_key(tenant.name, name="goodmem")
        record = service.add_record(tenant.id, KEYS, key.id, {"labels": labels})
        return {"apiKeyMetadata": key_json(key, record), "rawApiKey": secret}

    return await run_in_threadpool(create)


def _keys(service: MemoryService, tenant: Tenant) -> list[tuple[ApiKey, Record | None]]:
    """The tenant's keys not deleted through this door, with their GoodMem record (if any)."""
    records = {r.id: r for r in service.list_records(tenant.id, KEYS)}
    pairs = [(k, records.get(k.id)) for k in service.list_api_keys(tenant.name)]
    return [(k, r) for k, r in pairs if not (r and r.data.get("deleted"))]


def _key(service: MemoryService, tenant: Tenant, key_id: str) -> tuple[ApiKey, Record | None]:
    wanted = check_uuid(key_id, "API key id")
    for key, record in _keys(service, tenant):
        if key.id == wanted:
            return key, record
    raise NotFound(f"API key {wanted} not found")


def key_json(key: ApiKey, record: Record | None) -> dict[str, Any]:
    created = millis(key.created_at)
    out: dict[str, Any] = {
        "apiKeyId": key.id,
        "subjectPrincipalId": key.tenant_id,
        "ownerPrincipalId": key.tenant_id,
        "authorityMode": "INHERIT_SUBJECT",
        "ceilingOmitted": True,
        "keyPrefix": key.prefix,
        "status": "INACTIVE" if key.revoked_at else "ACTIVE",
        "lifecycleState": "REVOKED" if key.revoked_at else "USABLE",
        "labels": record.data.get("labels", {}) if record else {},
        "validFrom": created,
        "createdAt": created,
        "updatedAt": millis(record.updated_at) if record else created,
        "createdById": key.tenant_id,
        "updatedById": key.tenant_id,
    }
    if key.revoked_at:
        out["revokedAt"] = millis(key.revoked_at)
        out["revokedById"] = key.tenant_id
    return out


def list_keys(request: Request, tenant: AdminDep, service: ServiceDep) -> dict[str, Any]:
    keys = _keys(service, tenant)
    state = query(request, "lifecycle_state")
    if state:
        keys = [(k, r) for k, r in keys if key_json(k, r)["lifecycleState"] == state.upper()]
    basic = (query(request, "view") or "").upper() == "BASIC"
    size = clamp_page(query_int(request, "max_results"), *((50, 1000) if basic else (10, 20)))
    start = decode_token(query(request, "next_token"))
    out: dict[str, Any] = {"keys": [key_json(k, r) for k, r in keys[start : start + size]]}
    if start + size < len(keys):
        out["nextToken"] = encode_token(start + size)
    return out


def get_key(key_id: str, tenant: AdminDep, service: ServiceDep) -> dict[str, Any]:
    return key_json(*_key(service, tenant, key_id))


def _save(
    service: MemoryService, tenant: Tenant, key: ApiKey, record: Record | None, data: dict[str, Any]
) -> Record:
    if record is None:
        return service.add_record(tenant.id, KEYS, key.id, data)
    return service.update_record(tenant.id, KEYS, key.id, {**record.data, **data})


async def update_key(key_id: str, request: Request, tenant: AdminDep, service: ServiceDep) -> dict[str, Any]:
    """``status`` (INACTIVE revokes, for good) and ``replaceLabels`` / ``mergeLabels``."""
    changes = await read_json(request)
    if not isinstance(changes, dict):
        raise InvalidInput("the request body must be a JSON object")
    status = changes.get("status")
    if status not in (None, "ACTIVE", "INACTIVE"):
        raise InvalidInput("status must be ACTIVE or INACTIVE")

    def apply() -> dict[str, Any]:
        key, record = _key(service, tenant, key_id)
        if status == "ACTIVE" and key.revoked_at:
            raise InvalidInput("memhub cannot re-activate a revoked key; create a new one")
        if status == "INACTIVE":
            key = service.revoke_api_key(key.id, tenant_id=tenant.id)
        current = record.data.get("labels", {}) if record else {}
        record = _save(service, tenant, key, record, apply_labels(current, changes))
        return key_json(key, record)

    return await run_in_threadpool(apply)


def delete_key(key_id: str, tenant: AdminDep, service: ServiceDep) -> Response:
    key, record = _key(service, tenant, key_id)
    service.revoke_api_key(key.id, tenant_id=tenant.id)
    _save(service, tenant, key, record, {"deleted": True})
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# users: the tenant


def user_json(tenant: Tenant) -> dict[str, Any]:
    created = millis(tenant.created_at)
    return {
        "userId": tenant.id,
        "email": "",
        "username": tenant.name,
        "displayName": tenant.name,
        "labels": {},
        "createdAt": created,
        "updatedAt": created,
        "createdById": tenant.id,
        "updatedById": tenant.id,
    }


def me(tenant: TenantDep) -> dict[str, Any]:
    return user_json(tenant)


def list_users(tenant: TenantDep) -> dict[str, Any]:
    return {"users": [user_json(tenant)]}


def get_user(user_id: str, tenant: TenantDep) -> dict[str, Any]:
    if check_uuid(user_id, "user id") != tenant.id:
        raise NotFound(f"user {user_id} not found")
    return user_json(tenant)
