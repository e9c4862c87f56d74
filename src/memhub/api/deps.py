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

from memhub.core.errors import Unauthenticated
from memhub.core.models import Tenant
from memhub.core.service import MemoryService, hash_api_key
from memhub.runtime import Runtime

from .ratelimit import RateLimiter

# auto_error=False: a missing or non-Bearer header must be our 401 envelope, not FastAPI's own answer.
# Declared as a dependency so OpenAPI (and /docs) show the bearer security scheme.
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mh_…`")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_service(request: Request) -> MemoryService:
    service: MemoryService = request.app.state.service
    return service


def authenticate_key(request: Request, secret: str | None) -> Tenant:
    """The tenant of a live key (else :class:`Unauthenticated`), after the key's rate limit."""
    tenant = get_service(request).authenticate(secret)
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None and secret:
        request.state.rate_quota = limiter.check(hash_api_key(secret))
    return tenant


def require_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """The caller's tenant from ``Authorization: Bearer <key>``; a 401 for a missing or bad key."""
    if credentials is None:
        raise Unauthenticated("missing API key: send the header 'Authorization: Bearer <key>'")
    return authenticate_key(request, credentials.credentials)


ServiceDep = Annotated[MemoryService, Depends(get_service)]
TenantDep = Annotated[Tenant, Depends(require_tenant)]
