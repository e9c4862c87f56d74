"""mem0's error shape, and what memhub refuses (a 501 in that shape per mem0 feature it lacks).

mem0's server answers DRF-style: ``{"detail": "<sentence>"}`` (ping, auth) or ``{"error": "<sentence>"}``
(memories); its clients read ``detail`` for the exception message. Each error carries both, plus
memhub's machine ``code``. Statuses come from ``api/errors.py``, so every door agrees on them; the
clients map 400/422 to ``ValidationError``, 401 to ``AuthenticationError``, 404 to
``MemoryNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.responses import Response

from memhub.api.errors import ApiError, field_sentence
from memhub.core.errors import NotSupported


def render_error(error: ApiError) -> Response:
    """``{"detail", "error", "code"}`` (+ ``fields`` for a body that failed validation)."""
    fields = error.details.get("fields") or []
    message = field_sentence(fields[0]) if fields else error.message
    body: dict[str, Any] = {"detail": message, "error": message, "code": error.code}
    if fields:
        body["fields"] = fields
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


# ---------------------------------------------------------------------------------------------------
# what memhub does not have: (methods, path, what it is). Each answers 501 in mem0's shape.

UNSUPPORTED: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("POST",), "/v1/exports/", "memory exports"),
    (("POST",), "/v1/exports/get/", "memory exports"),
    (("POST",), "/v1/summary/", "summaries"),
    (("POST",), "/v1/feedback/", "feedback on memories"),
    (("GET",), "/v1/stats/", "usage statistics"),
    (("GET",), "/v1/events/", "the event log"),
    (("GET",), "/v1/memories/events/", "the event log"),
    (("GET",), "/v1/entities/filters/", "entity filter listings"),
    (("GET",), "/v2/entities/{entity_type}/{entity_id}/", "entity details"),
    (("POST",), "/v1/users/", "creating entities ahead of use (memhub creates them on first add)"),
    (("POST",), "/v1/agents/", "creating entities ahead of use (memhub creates them on first add)"),
    (("POST",), "/v1/apps/", "creating entities ahead of use (memhub creates them on first add)"),
    (("POST",), "/v1/runs/", "creating entities ahead of use (memhub creates them on first add)"),
    (("GET",), "/v2/entities/user/{entity_id}/profile/", "user profiles"),
    (("GET", "POST"), "/v2/profiles/settings/", "user profiles"),
    (("GET", "POST"), "/v2/profiles/jobs/", "user profiles"),
    (("GET",), "/v2/profiles/jobs/{job_id}/", "user profiles"),
    (("GET", "POST"), "/api/v1/webhooks/projects/{project_id}/", "webhooks"),
    (("PUT", "DELETE"), "/api/v1/webhooks/{webhook_id}/", "webhooks"),
    (("GET", "POST"), "/api/v1/orgs/organizations/", "organisations and projects"),
    (("GET", "DELETE"), "/api/v1/orgs/organizations/{org_id}/", "organisations and projects"),
    (
        ("GET", "POST", "PUT", "DELETE"),
        "/api/v1/orgs/organizations/{org_id}/members/",
        "organisations and projects",
    ),
    (("GET", "POST"), "/api/v1/orgs/organizations/{org_id}/projects/", "organisations and projects"),
    (
        ("GET", "PATCH", "DELETE"),
        "/api/v1/orgs/organizations/{org_id}/projects/{project_id}/",
        "organisations and projects",
    ),
    (
        ("GET", "POST", "PUT", "DELETE"),
        "/api/v1/orgs/organizations/{org_id}/projects/{project_id}/members/",
        "organisations and projects",
    ),
)


def add_unsupported_routes(api: APIRouter, dependencies: Sequence[Any]) -> None:
    """One route per mem0 feature memhub has no equivalent for: a 501 that says so, never a pretence.

    ``dependencies`` (the key check) run first, so an unauthenticated caller gets a 401 as anywhere.
    """
    for methods, path, feature in UNSUPPORTED:
        for method in methods:
            api.add_api_route(
                path,
                _refuse(feature),
                methods=[method],
                name=f"unsupported {method} {path}",
                operation_id="mem0_unsupported_" + method.lower() + _slug(path),
                summary=f"Not supported by memhub: {feature}",
                dependencies=list(dependencies),
                include_in_schema=False,  # fixed refusals: in the README and the isolation table
            )


def _slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path)


def _refuse(feature: str) -> Callable[[], Response]:
    def refuse() -> Response:
        raise NotSupported(f"{feature} is not supported by memhub")

    return refuse
