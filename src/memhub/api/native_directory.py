"""The native API's directory routes: spaces, users and sessions (under ``/v1``).

Thin like ``native.py``. User and session ids are chosen by callers and may contain ``/``, so their path
parameters use the ``path`` converter (clients percent-encode them; the server decodes before routing).
The ``/messages`` route is declared before ``GET /sessions/{id}`` for the same reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from memhub.core.models import Session, Space, User

from .deps import ServiceDep, TenantDep
from .schemas import (
    CreateSessionRequest,
    CreateSpaceRequest,
    EventPage,
    Forgotten,
    SessionPage,
    SpacePage,
    UserPage,
)

router = APIRouter()


# --- spaces -----------------------------------------------------------------------------------------


@router.post("/spaces", status_code=201, tags=["spaces"])
def create_space(body: CreateSpaceRequest, tenant: TenantDep, service: ServiceDep) -> Space:
    return service.create_space(tenant.id, body.name, body.metadata)


@router.get("/spaces", tags=["spaces"])
def list_spaces(tenant: TenantDep, service: ServiceDep) -> SpacePage:
    """All the tenant's spaces in one page (a tenant has few)."""
    return SpacePage(items=service.list_spaces(tenant.id), next_cursor=None)


@router.get("/spaces/{space_id}", tags=["spaces"])
def get_space(space_id: str, tenant: TenantDep, service: ServiceDep) -> Space:
    return service.get_space(tenant.id, space_id)


@router.delete("/spaces/{space_id}", status_code=204, response_class=Response, tags=["spaces"])
def delete_space(space_id: str, tenant: TenantDep, service: ServiceDep) -> None:
    """Delete a space and everything in it (the ``default`` space cannot be deleted: 409)."""
    service.delete_space(tenant.id, space_id)


# --- users ------------------------------------------------------------------------------------------


@router.get("/users", tags=["users"])
def list_users(
    tenant: TenantDep, service: ServiceDep, cursor: str | None = None, limit: int = 50
) -> UserPage:
    page = service.list_users(tenant.id, cursor=cursor, limit=limit)
    return UserPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/users/{user_id:path}", tags=["users"])
def get_user(user_id: str, tenant: TenantDep, service: ServiceDep) -> User:
    return service.get_user(tenant.id, user_id)


@router.delete("/users/{user_id:path}", tags=["users"])
def forget_user(user_id: str, tenant: TenantDep, service: ServiceDep) -> Forgotten:
    """Forget a user: their memories, events, jobs and sessions are deleted."""
    return Forgotten(deleted_memories=service.forget_user(tenant.id, user_id))


# --- sessions ---------------------------------------------------------------------------------------


@router.post("/sessions", status_code=201, tags=["sessions"])
def create_session(body: CreateSessionRequest, tenant: TenantDep, service: ServiceDep) -> Session:
    return service.create_session(
        tenant.id, user_id=body.user_id, session_id=body.session_id, space=body.space, metadata=body.metadata
    )


@router.get("/sessions", tags=["sessions"])
def list_sessions(
    tenant: TenantDep,
    service: ServiceDep,
    user_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> SessionPage:
    page = service.list_sessions(tenant.id, user_id=user_id, cursor=cursor, limit=limit)
    return SessionPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/sessions/{session_id:path}/messages", tags=["sessions"])
def session_messages(
    session_id: str, tenant: TenantDep, service: ServiceDep, cursor: str | None = None, limit: int = 100
) -> EventPage:
    """The session's messages, oldest first."""
    page = service.session_messages(tenant.id, session_id, cursor=cursor, limit=limit)
    return EventPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/sessions/{session_id:path}", tags=["sessions"])
def get_session(session_id: str, tenant: TenantDep, service: ServiceDep) -> Session:
    return service.get_session(tenant.id, session_id)
