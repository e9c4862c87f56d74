"""What every GoodMem route shares: the error shape, the ``x-api-key`` check, query-string helpers.

Why the choices below:

* **Errors are ``{"code", "message", "details"}``** with gRPC-style codes; the SDK picks its exception
  class from the status only. GoodMem reports every invalid argument as **400**, so the 422 memhub uses
  for "fix this value" is answered as 400 under this prefix (the status table is otherwise shared).
* **Auth** is ``x-api-key: <key>`` (also ``Authorization: Bearer <key>``); the key selects the memhub
  tenant through ``deps.authenticate_key``, so this door shares the key check and rate limit.
* **Query parameters** are snake_case from the SDK and camelCase from older clients: both are read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic.alias_generators import to_camel
from starlette.responses import Response

from memhub.api.compat.adapter import error_route
from memhub.api.deps import authenticate_key, get_service
from memhub.api.errors import ApiError
from memhub.core.errors import InvalidInput, Unauthenticated
from memhub.core.models import Tenant

# memhub's error codes in the gRPC vocabulary GoodMem documents its errors in.
GRPC_CODES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


# ---------------------------------------------------------------------------------------------------
# errors


def wire_status(status: int) -> int:
    """GoodMem answers every invalid argument with 400; memhub's 422 means the same thing."""
    return 400 if status == 422 else status


def render_error(error: ApiError) -> Response:
    """GoodMem's error body; the SDK keeps it as text and picks the exception by status alone."""
    status = wire_status(error.status)
    body = {
        "code": GRPC_CODES.get(status, "INTERNAL" if status >= 500 else "UNKNOWN"),
        "message": error.message,
        "details": [error.details] if error.details else [],
    }
    return JSONResponse(body, status_code=status, headers=error.headers or None)


GoodmemRoute = error_route(render_error, name="goodmem")
"""Every GoodMem route answers its errors in GoodMem's shape (FastAPI's handlers are app-wide)."""


# ---------------------------------------------------------------------------------------------------
# authentication and query strings


def caller_tenant(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Tenant:
    """``x-api-key: <key>`` (or ``Authorization: Bearer <key>``) → the key's tenant, else 401."""
    return authenticate_key(request, _secret(x_api_key, authorization))


def caller_admin(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Tenant:
    """:func:`caller_tenant` for key management: the key must be its tenant's admin key (else 403)."""
    secret = _secret(x_api_key, authorization)
    authenticate_key(request, secret)  # the rate limit, as for every request
    return get_service(request).authenticate_admin(secret)


def _secret(x_api_key: str | None, authorization: str | None) -> str:
    secret = (x_api_key or "").strip()
    if not secret and authorization:
        scheme, _, rest = authorization.strip().partition(" ")
        secret = rest.strip() if scheme.lower() == "bearer" else ""
    if not secret:
        raise Unauthenticated("missing API key: send the header 'x-api-key: <key>'")
    return secret


TenantDep = Annotated[Tenant, Depends(caller_tenant)]
AdminDep = Annotated[Tenant, Depends(caller_admin)]


async def read_json(request: Request) -> Any:
    """The request body as JSON; a body that is not JSON is a 400, not a crash."""
    try:
        return await request.json()
    except ValueError:
        raise InvalidInput("request body is not valid JSON") from None


def query(request: Request, name: str) -> str | None:
    """A query parameter by its snake_case name, or its camelCase twin."""
    params = request.query_params
    value = params.get(name)
    return value if value is not None else params.get(to_camel(name))


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    value = query(request, name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidInput(f"query parameter {name} must be true or false")


def query_int(request: Request, name: str) -> int | None:
    value = query(request, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"query parameter {name} must be an integer") from None


def query_labels(request: Request) -> dict[str, str]:
    """``label[k]=v`` (what the SDK sends) and ``label.k=v`` (what the official server also accepts)."""
    labels: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("label[") and key.endswith("]"):
            labels[key[6:-1]] = value
        elif key.startswith("label."):
            labels[key[6:]] = value
    return labels
