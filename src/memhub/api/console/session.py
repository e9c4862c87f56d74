"""Who is signed in to the console, and proof that a form was posted by the console itself.

A browser cannot send ``Authorization: Bearer``, so signing in opens a *session*: the cookie holds an
opaque session id (``<tenant id>.<random token>``), never the API key, so a leaked cookie, browser
profile or proxy log does not leak a key that works at every door, and signing out ends the session on
the server too. The session is a record of the tenant (collection ``console.session``, keyed by the
token's SHA-256, holding the key's hash and an expiry), so it is shared by every replica on the store.
The cookie cannot be read by scripts (``HttpOnly``), is carried by no other site's request
(``SameSite=Strict``) and only to console paths (``Path=/console``). The key behind a session is checked
on every request like any other door's (same key check, same rate limit), so revoking it signs the
browser out at once.

Every form that changes something carries a CSRF token derived from the session token (an HMAC, so the
page that shows it does not reveal the cookie) and the POST is refused unless the token matches; a
request whose ``Origin`` header names another site (or is ``null``: a sandboxed frame, a redirect from
elsewhere) is refused too, even for the sign-in form. SameSite already stops cross-site posts in
current browsers: the token is the second lock for the ones that don't.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from memhub.core.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from memhub.core.models import Tenant
from memhub.core.service import hash_api_key

from ..deps import authenticate_digest, authenticate_key, get_service

COOKIE = "memhub_console"
CSRF_FIELD = "csrf"
SESSIONS = "console.session"
SESSION_LIFETIME = timedelta(hours=12)


class LoginRequired(Exception):
    """Raised by :func:`require_login` for a browser without a valid key: answered by a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: their tenant and the CSRF token their forms must carry."""

    tenant: Tenant
    csrf: str


def csrf_token(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"memhub-console-csrf", hashlib.sha256).hexdigest()


def open_session(request: Request, secret: str) -> str:
    """Check the key (:class:`Unauthenticated` if it is not live) and start a session: the cookie value."""
    tenant = authenticate_key(request, secret)
    service = get_service(request)
    now = service.clock.now()
    for record in service.list_records(tenant.id, SESSIONS):  # sessions nobody signed out of
        if _expired(record.data, now):
            service.delete_record(tenant.id, SESSIONS, record.id)
    token = secrets.token_urlsafe(32)
    expires = (now + SESSION_LIFETIME).isoformat()
    service.add_record(tenant.id, SESSIONS, _digest(token), {"key": hash_api_key(secret), "expires": expires})
    return f"{tenant.id}.{token}"


def close_session(request: Request, cookie: str | None) -> None:
    tenant_id, _, token = (cookie or "").partition(".")
    if tenant_id and token:
        with contextlib.suppress(NotFound, InvalidInput):  # already gone: signing out twice is fine
            get_service(request).delete_record(tenant_id, SESSIONS, _digest(token))


def require_login(request: Request) -> Viewer:
    """The viewer of a request whose cookie names a live session of a live key, else ``LoginRequired``."""
    tenant_id, _, token = request.cookies.get(COOKIE, "").partition(".")
    if not tenant_id or not token:
        raise LoginRequired(_here(request))
    service = get_service(request)
    try:
        session = service.get_record(tenant_id, SESSIONS, _digest(token)).data
        if _expired(session, service.clock.now()):
            raise Unauthenticated("the console session has expired")
        tenant = authenticate_digest(request, str(session["key"]))
    except (NotFound, InvalidInput, Unauthenticated, KeyError):
        raise LoginRequired(_here(request)) from None
    if tenant.id != tenant_id:
        raise LoginRequired(_here(request))
    return Viewer(tenant, csrf_token(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expired(session: dict[str, object], now: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(session.get("expires"))) <= now
    except ValueError:
        return True


def check_form(request: Request, viewer: Viewer | None, token: str | None) -> None:
    """Refuse a POST from another origin, or (when signed in) one without this viewer's CSRF token."""
    origin = request.headers.get("origin")
    if origin and (origin == "null" or urlsplit(origin).netloc != request.url.netloc):
        raise PermissionDenied("this form was posted from another site; reload the console and retry")
    if viewer is not None and not hmac.compare_digest(token or "", viewer.csrf):
        raise PermissionDenied("the form's security token is missing or stale; reload the page and retry")


def safe_next(path: str | None, prefix: str) -> str:
    """Where to go after signing in: a console path only (never another host: no open redirect)."""
    if not path or not path.startswith(prefix) or path.startswith("//") or "\\" in path:
        return prefix
    return path


def login_url(prefix: str, next_path: str) -> str:
    return f"{prefix}/login?next={quote(next_path, safe='/')}"


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


ViewerDep = Annotated[Viewer, Depends(require_login)]
