"""Signing in and out of the console with an API key (``session.py``: the cookie is a session id)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from memhub.core.errors import Unauthenticated

from .session import (
    COOKIE,
    CSRF_FIELD,
    SESSION_LIFETIME,
    ViewerDep,
    check_form,
    close_session,
    open_session,
    safe_next,
)
from .web import PagesDep

router = APIRouter()


@router.get("/login")
def login_form(request: Request, pages: PagesDep, next: str | None = None) -> Response:
    return pages.render(request, "login.html", next=safe_next(next, pages.prefix), failed=False)


@router.post("/login")
def login(
    request: Request,
    pages: PagesDep,
    api_key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, None, None)
    target = safe_next(next, pages.prefix)
    secret = api_key.strip()
    try:
        session = open_session(request, secret)
    except Unauthenticated:
        return pages.render(request, "login.html", status=401, next=target, failed=True)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=pages.prefix,
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    pages: PagesDep,
    viewer: ViewerDep,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_form(request, viewer, csrf)
    close_session(request, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{pages.prefix}/login", status_code=303)
    response.delete_cookie(COOKIE, path=pages.prefix, httponly=True, samesite="strict")
    return response
