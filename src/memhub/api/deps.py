"""FastAPI dependencies shared by the native API and the protocol adapters.

``get_service`` hands a route the process's :class:`MemoryService`; ``require_tenant`` turns the
``Authorization: Bearer <key>`` header into the caller's :class:`Tenant` (or a 401), applying the
per-key rate limit. Adapters whose protocol carries the key elsewhere (``x-api-key``, ``Api-Key <key>``)
write a three-line dependency of their own around :func:`authenticate_key`, so every door shares the
same key check and the same rate limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from memhub.core.errors import PermissionDenied, Unauthenticated
from memhub.core.models import Tenant
from memhub.core.service import MemoryService, hash_api_key
from memhub.pipeline.outbound import OutboundPolicy

from .ratelimit import RateLimiter

# auto_error=False: a missing or non-Bearer header must be our 401 envelope, not FastAPI's own answer.
# Declared as a dependency so OpenAPI (and /docs) show the bearer security scheme.
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mh_…`")


def get_service(request: Request) -> MemoryService:
    service: MemoryService = request.app.state.service
    return service


def outbound_policy(request: Request) -> OutboundPolicy:
    """The policy every call to an endpoint a tenant registered goes through (``pipeline/outbound.py``)."""
    policy: OutboundPolicy = request.app.state.runtime.outbound
    return policy


async def _service_dependency(request: Request) -> MemoryService:
    """:func:`get_service` as a dependency. ``async`` because FastAPI runs a plain ``def`` dependency on
    a worker thread, and that hop costs far more than reading an attribute
    (``docs/decisions/async-service-dependency.md``)."""
    return get_service(request)


def authenticate_key(request: Request, secret: str | None) -> Tenant:
    """The tenant of a live key (else :class:`Unauthenticated`), after the key's rate limit."""
    tenant = get_service(request).authenticate(secret)
    if secret:
        _check_rate(request, secret)
    return tenant


def authenticate_digest(request: Request, digest: str) -> Tenant:
    """:func:`authenticate_key` for a key known by its hash only (a console session keeps no secret)."""
    tenant = get_service(request).authenticate_digest(digest)
    check_rate_digest(request, digest)
    return tenant


def _check_rate(request: Request, secret: str) -> None:
    """Spend one of the key's requests (:class:`RateLimited` when none is left)."""
    check_rate_digest(request, hash_api_key(secret))


def check_rate_digest(request: Request, digest: str) -> None:
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        request.state.rate_quota = limiter.check(digest)


OPERATOR_TENANT = "default"
"""The tenant of the key ``serve`` creates on first start: the operator's. Its admin keys, and only
those, read figures that span every tenant (``/metrics``); any other tenant's admin is a customer."""


def bearer_operator(request: Request) -> Tenant:
    """:func:`bearer_tenant` for server-wide figures: an admin key of :data:`OPERATOR_TENANT` (else 403)."""
    bearer_tenant(request)
    secret = request.headers.get("authorization", "").partition(" ")[2].strip()
    tenant = get_service(request).authenticate_admin(secret)
    if tenant.name != OPERATOR_TENANT:
        raise PermissionDenied(
            f"these figures span every tenant: they need an admin key of tenant {OPERATOR_TENANT!r}"
        )
    return tenant


def bearer_tenant(request: Request) -> Tenant:
    """:func:`require_tenant` for plain ASGI endpoints (``/mcp``, ``/metrics``): reads the header itself."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("missing API key: send the header 'Authorization: Bearer <key>'")
    return authenticate_key(request, secret.strip())


async def require_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """The caller's tenant from ``Authorization: Bearer <key>``; a 401 for a missing or bad key.

    A key checked moments ago is answered from the service's key cache right here on the event loop;
    only a key that needs the store goes to a worker thread (that hop costs more than the check).
    """
    if credentials is None:
        raise Unauthenticated("missing API key: send the header 'Authorization: Bearer <key>'")
    secret = credentials.credentials
    tenant = get_service(request).recently_authenticated(secret)
    if tenant is None:
        return await run_in_threadpool(authenticate_key, request, secret)
    _check_rate(request, secret)
    return tenant


ServiceDep = Annotated[MemoryService, Depends(_service_dependency)]
TenantDep = Annotated[Tenant, Depends(require_tenant)]
