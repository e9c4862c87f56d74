"""Who is signed in to the console, and proof that a form was posted by the console itself.

A browser cannot send ``Authorization: Bearer``, so the console keeps the API key the person signed in
with in a cookie that scripts cannot read (``HttpOnly``), that no other site's request carries
(``SameSite=Strict``) and that only console paths receive (``Path=/console``). The key is checked by
the service on every request, like any other door (same key check, same rate limit), so revoking it
signs the browser out at once and the server keeps no session state.

Every form that changes something carries a CSRF token derived from the key (an HMAC, so the page that
shows it does not reveal the key) and the POST is refused unless the token matches; a request whose
``Origin`` header names another site (or is ``null``: a sandboxed frame, a redirect from elsewhere)
is refused too, even for the sign-in form. SameSite already stops cross-site posts in current
browsers: the token is the second lock for the ones that don't.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from memhub.core.errors import PermissionDenied, Unauthenticated
from memhub.core.models import Tenant

from ..deps import authenticate_key

COOKIE = "memhub_console"
CSRF_FIELD = "csrf"


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


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"memhub-console-csrf", hashlib.sha256).hexdigest()


def require_login(request: Request) -> Viewer:
    """The viewer of a request whose cookie holds a live key; else :class:`LoginRequired`."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise LoginRequired(_here(request))
    try:
        tenant = authenticate_key(request, secret)
    except Unauthenticated:
        raise LoginRequired(_here(request)) from None
    return Viewer(tenant, csrf_token(secret))


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
