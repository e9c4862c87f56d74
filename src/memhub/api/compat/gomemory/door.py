"""Where and to whom the GoMemory API answers: its mount, exposure check, bearer key and error shape.

The protocol has no credentials, so the mount serves exactly one tenant (``gomemory_tenant``) and is
off without it; :func:`check_exposure` refuses a non-loopback bind unless the user opted in or set a
bearer key, and :meth:`Door.guard` keeps browsers out (see its docstring). :class:`GoMemoryRoute`
renders every error a route raises in GoMemory's shape, and :func:`render_error` does the same for the
app's per-prefix renderer.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from memhub.api.compat.adapter import error_route
from memhub.api.errors import ApiError
from memhub.api.loopback import arrived_on_loopback, is_loopback_host, loopback_host_header
from memhub.core.errors import InvalidInput
from memhub.core.service import MemoryService
from memhub.settings import Settings

from .wire import Rejected

# The 500 message each endpoint answers when the work itself fails (the spec's texts).
_FAILURE_MESSAGES = {
    "add_memory": "Failed to queue memory insertion.",
    "get_memory": "Memory Retrieval Failed!",
    "get_status": "Failed to get the status of the request",
}


def render_error(error: ApiError) -> Response:
    """GoMemory's error shape. ``Status`` + ``Message`` are what make the SDK raise its ``APIError``."""
    body = {"Error": error.message, "Status": error.status, "Message": error.message}
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


def _rejected(exc: Exception) -> ApiError | None:
    """The protocol's own refusals (its 400/401/404 texts) as they are."""
    if isinstance(exc, Rejected):
        return ApiError(exc.status, "gomemory", exc.message, {}, exc.headers)
    return None


def _failure(route_name: str) -> ApiError:
    """The protocol names its own 500 text per endpoint; the trace goes to the log."""
    return ApiError(500, "gomemory", _FAILURE_MESSAGES.get(route_name, "Internal Server Error"))


GoMemoryRoute = error_route(render_error, name="gomemory", translate=_rejected, internal=_failure)
"""A route whose every error is rendered in GoMemory's shape, never in the native envelope."""


# ---------------------------------------------------------------------------------------------------
# exposure


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (names other than localhost: no)."""
    return is_loopback_host(host)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the unauthenticated GoMemory API beyond this machine unless the user opted in.

    ``memhub serve`` calls this before binding; it raises :class:`InvalidInput` with what to do.
    """
    if not settings.gomemory_tenant or settings.gomemory_allow_remote or settings.gomemory_api_key:
        return
    if is_loopback(settings.host):
        return
    raise InvalidInput(
        f"refusing to serve the GoMemory API on {settings.host!r}: it has no authentication, so anyone who "
        "can reach this address could read and write the memories of tenant "
        f"{settings.gomemory_tenant!r}. Bind to 127.0.0.1, or set MEMHUB_GOMEMORY_API_KEY (clients then "
        "send 'Authorization: Bearer <key>'), or pass --gomemory-allow-remote "
        "(MEMHUB_GOMEMORY_ALLOW_REMOTE=true) to expose it anyway."
    )


class Door:
    """Per-app state of the mount: the configured tenant (resolved once) and the optional bearer key."""

    def __init__(self, settings: Settings) -> None:
        if not settings.gomemory_tenant:
            raise InvalidInput("the GoMemory API needs gomemory_tenant (--gomemory-tenant)")
        self.tenant_name = settings.gomemory_tenant
        self.api_key = settings.gomemory_api_key
        # Keyless and not opted in to remote use: this machine only (checked per request, see guard).
        self.local_only = self.api_key is None and not settings.gomemory_allow_remote
        self.origins = frozenset(o.rstrip("/") for o in settings.cors_origins)
        self._tenant_id: str | None = None

    def tenant_id(self, service: MemoryService) -> str:
        if self._tenant_id is None:
            self._tenant_id = service.ensure_tenant(self.tenant_name).id
        return self._tenant_id

    def guard(self, request: Request) -> None:
        """Keep web pages the host's user visits away from the keyless API.

        * A keyless mount answers only connections that arrived on a loopback address — the real socket,
          so an app served on 0.0.0.0 by something other than ``memhub serve`` is still local-only — and
          only under a loopback ``Host`` (as ``/mcp`` does): a DNS-rebound page sends its own name.
        * A request with an ``Origin`` (which only browsers send) is refused unless that origin is one of
          ``cors_origins``: the SDK sends none, and a same-origin test would pass a DNS-rebound page.
        * A request body must be JSON: ``text/plain`` and form posts are "simple" requests a browser
          sends cross-site without asking, and GoMemory's own SDK sends ``application/json``.
        """
        if self.local_only and not arrived_on_loopback(request.scope):
            raise Rejected(403, "The GoMemory API has no authentication and only answers on loopback")
        if self.local_only and not loopback_host_header(request.headers):
            raise Rejected(421, "Misdirected Request: the GoMemory API answers only to localhost")
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") not in self.origins:
            raise Rejected(403, "Cross-site requests to the GoMemory API are refused")
        if _has_body(request) and not _is_json(request.headers.get("content-type", "")):
            raise Rejected(415, "Content-Type must be application/json")

    def authorize(self, request: Request) -> None:
        """With ``gomemory_api_key`` set, require ``Authorization: Bearer <key>`` (constant-time compare)."""
        if self.api_key is None:
            return
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            secret.strip().encode("utf-8"), self.api_key.encode("utf-8")
        ):
            raise Rejected(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length.strip() != "0")


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
