"""Console pages for what a tenant holds: the overview, spaces, users (and forgetting one), sessions.

Each page is one or a few service reads for the signed-in key's tenant; nothing else is ever in scope,
so another tenant's ids answer 404 like everywhere else. User and session ids are chosen by callers and
may contain ``/``: their detail routes use the ``path`` converter (links percent-encode them), and the
forget-user form takes the id as a query/form field so no route has to follow a ``path`` segment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from memhub._version import __version__
from memhub.core.service import MemoryService

from ..deps import ServiceDep
from .session import CSRF_FIELD, ViewerDep, check_form
from .web import PagesDep

router = APIRouter()
PAGE = 50
PREVIEW = 20


@router.get("")
def overview(request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep) -> Response:
    tenant = viewer.tenant.id
    return pages.render(
        request,
        "overview.html",
        viewer=viewer,
        counts=service.counts(tenant),
        space_names=_space_names(service, tenant),
        recent=service.list_memories(tenant, limit=10).items,
        server={
            "version": __version__,
            "backend": service.store.backend,
            "embedder": f"{service.embedder.model_id} ({service.embedder.dim} dims)",
        },
    )


@router.get("/spaces")
def spaces(request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep) -> Response:
    items = service.list_spaces(viewer.tenant.id)
    return pages.render(request, "spaces.html", viewer=viewer, spaces=items)


@router.get("/spaces/{space_id}")
def space(
    space_id: str, request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep
) -> Response:
    found = service.get_space(viewer.tenant.id, space_id)
    recent = service.list_memories(viewer.tenant.id, space=found.id, limit=PREVIEW)
    return pages.render(request, "space.html", viewer=viewer, space=found, recent=recent)


@router.get("/users")
def users(
    request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep, cursor: str | None = None
) -> Response:
    page = service.list_users(viewer.tenant.id, cursor=cursor, limit=PAGE)
    return pages.render(request, "users.html", viewer=viewer, page=page, cursor=cursor)


@router.get("/users/{user_id:path}")
def user(user_id: str, request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep) -> Response:
    if not user_id:  # "/users/" with the trailing slash
        return pages.redirect("/users")
    tenant = viewer.tenant.id
    found = service.get_user(tenant, user_id)
    return pages.render(
        request,
        "user.html",
        viewer=viewer,
        user=found,
        space_names=_space_names(service, tenant),
        sessions=service.list_sessions(tenant, user_id=user_id, limit=PAGE),
        recent=service.list_memories(tenant, user_id=user_id, limit=PREVIEW),
    )


@router.get("/forget-user")
def forget_user_confirm(
    user_id: str, request: Request, viewer: ViewerDep, pages: PagesDep, service: ServiceDep
) -> Response:
    found = service.get_user(viewer.tenant.id, user_id)
    return pages.render(request, "forget_user.html", viewer=viewer, user=found)


@router.post("/forget-user")
def forget_user(
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    user_id: Annotated[str, Form()],
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_form(request, viewer, csrf)
    deleted = service.forget_user(viewer.tenant.id, user_id)
    return pages.redirect("/users", f"Forgot user {user_id}: {deleted} memories deleted.")


@router.get("/sessions")
def sessions(
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    user_id: str | None = None,
    cursor: str | None = None,
) -> Response:
    page = service.list_sessions(viewer.tenant.id, user_id=user_id or None, cursor=cursor, limit=PAGE)
    return pages.render(request, "sessions.html", viewer=viewer, page=page, user_id=user_id, cursor=cursor)


@router.get("/sessions/{session_id:path}")
def session(
    session_id: str,
    request: Request,
    viewer: ViewerDep,
    pages: PagesDep,
    service: ServiceDep,
    cursor: str | None = None,
) -> Response:
    if not session_id:
        return pages.redirect("/sessions")
    tenant = viewer.tenant.id
    found = service.get_session(tenant, session_id)
    return pages.render(
        request,
        "session.html",
        viewer=viewer,
        session=found,
        space=service.get_space(tenant, found.space_id),
        messages=service.session_messages(tenant, session_id, cursor=cursor, limit=PAGE),
        recent=service.list_memories(tenant, session_id=session_id, limit=PREVIEW),
        cursor=cursor,
    )


def _space_names(service: MemoryService, tenant_id: str) -> dict[str, str]:
    return {s.id: s.name for s in service.list_spaces(tenant_id)}
