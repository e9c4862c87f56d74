"""The GoodMem routes a self-hosted memhub does not serve: each answers **501** with the reason.

The SDK maps 501 to ``InternalServerError`` and shows the body, so the reason is what a user reads.
They still require a valid key first (401 before 501), like every other route. The README section
"GoodMem compatibility" lists the same table: keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from memhub.core.errors import NotSupported

from .door import TenantDep

_USERS = (
    "memhub has one principal per tenant (the key's tenant; see users.me); manage tenants with 'memhub keys'"
)
_IDENTITIES = "memhub has no service identities: create an API key for the tenant instead"
_POLICY = "memhub keys carry their tenant's full rights; there are no grants or roles"
_DECISIONS = "decision models are a GoodMem-hosted feature memhub does not offer"
_ADMIN = "memhub is administered with its CLI ('memhub serve', 'memhub keys', 'memhub jobs')"

UNSUPPORTED: tuple[tuple[str, str, str], ...] = (
    (
        "POST",
        "/v1/spaces/{item_id}:transferOwnership",
        "spaces belong to their tenant; ownership cannot move",
    ),
    ("POST", "/v1/users", _USERS),
    ("PUT", "/v1/users/{item_id}", _USERS),
    ("DELETE", "/v1/users/{item_id}", _USERS),
    ("GET", "/v1/users/email/{item_id}", _USERS),
    ("GET", "/v1/users/username/{item_id}", _USERS),
    ("POST", "/v1/users/{item_id}/enrollments", _USERS),
    ("GET", "/v1/users/{item_id}/enrollments", _USERS),
    ("GET", "/v1/users/{item_id}/enrollments/{sub_id}", _USERS),
    ("DELETE", "/v1/users/{item_id}/enrollments/{sub_id}", _USERS),
    ("POST", "/v1/user-enrollments:complete", _USERS),
    ("POST", "/v1/service-identities", _IDENTITIES),
    ("GET", "/v1/service-identities", _IDENTITIES),
    ("GET", "/v1/service-identities/{item_id}", _IDENTITIES),
    ("PUT", "/v1/service-identities/{item_id}", _IDENTITIES),
    ("DELETE", "/v1/service-identities/{item_id}", _IDENTITIES),
    ("POST", "/v1/service-identities/{item_id}:transferOwnership", _IDENTITIES),
    ("POST", "/v1/access-policy/grants", _POLICY),
    ("GET", "/v1/access-policy/grants", _POLICY),
    ("GET", "/v1/access-policy/grants/{item_id}", _POLICY),
    ("DELETE", "/v1/access-policy/grants/{item_id}", _POLICY),
    ("POST", "/v1/access-policy/role-assignments", _POLICY),
    ("GET", "/v1/access-policy/role-assignments", _POLICY),
    ("GET", "/v1/access-policy/role-assignments/{item_id}", _POLICY),
    ("DELETE", "/v1/access-policy/role-assignments/{item_id}", _POLICY),
    ("POST", "/v1/access-policy:check", _POLICY),
    ("POST", "/v1/decision-models", _DECISIONS),
    ("GET", "/v1/decision-models", _DECISIONS),
    ("GET", "/v1/decision-models/{item_id}", _DECISIONS),
    ("PUT", "/v1/decision-models/{item_id}", _DECISIONS),
    ("DELETE", "/v1/decision-models/{item_id}", _DECISIONS),
    ("POST", "/v1/decision-models/{item_id}/decide", _DECISIONS),
    ("GET", "/v1/instance", _ADMIN),
    ("POST", "/v1/ocr:document", "memhub does not OCR; upload PDFs with a text layer as memories"),
    (
        "POST",
        "/v1/ping:once",
        "endpoint pings are not offered: memhub calls its configured embedder and reranker directly",
    ),
    (
        "POST",
        "/v1/ping:stream",
        "endpoint pings are not offered: memhub calls its configured embedder and reranker directly",
    ),
    ("POST", "/v1/admin:drain", _ADMIN),
    ("POST", "/v1/admin/license:reload", "memhub is Apache-2.0 software: there is no license to load"),
    ("POST", "/v1/admin/background-jobs:purge", _ADMIN),
    ("POST", "/v1/admin:transferInstanceOwnership", _ADMIN),
    ("POST", "/v1/admin/retrieve-memory-log-policies", "memhub does not log retrievals"),
    ("GET", "/v1/admin/retrieve-memory-log-policies", "memhub does not log retrievals"),
    ("GET", "/v1/admin/retrieve-memory-log-policies/{item_id}", "memhub does not log retrievals"),
    ("DELETE", "/v1/admin/retrieve-memory-log-policies/{item_id}", "memhub does not log retrievals"),
)


def add_routes(api: APIRouter) -> None:
    """Register every unsupported route (after the supported ones, which take precedence)."""
    for method, path, reason in UNSUPPORTED:
        api.add_api_route(
            path, _refuse(f"{method} {path}", reason), methods=[method], include_in_schema=False
        )


def _refuse(route: str, reason: str) -> Callable[[TenantDep], None]:
    def refuse(tenant: TenantDep) -> None:
        raise NotSupported(f"{route} is not supported by memhub: {reason}")

    return refuse
