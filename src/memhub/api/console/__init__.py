"""The web console at ``/console``: browse a tenant's spaces, users, sessions and memories; search; delete.

An adapter over :class:`~memhub.core.service.MemoryService` like every other door: server-rendered Jinja2
pages (``templates/``), one small stylesheet (``static/console.css``), no JavaScript and no build step.
A person signs in with an API key and sees that key's tenant only (``session.py``); every page is a few
service reads, and the two writes (delete a memory, forget a user) are CSRF-protected POST forms.

``mount_console`` is called by ``api/app.py`` when the ``console`` setting is on (the default).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from ..errors import ErrorRenderers
from . import pages_auth, pages_directory, pages_memories
from .session import LoginRequired, login_url
from .web import Pages, PagesDep

PREFIX = "/console"

__all__ = ["PREFIX", "mount_console"]


def mount_console(app: FastAPI, renderers: ErrorRenderers, prefix: str = PREFIX) -> None:
    """Add the console's routes under ``prefix``; its errors answer as HTML pages, not JSON."""
    pages = Pages(prefix)
    app.state.console = pages
    for router in (_static_router(), pages_auth.router, pages_memories.router, pages_directory.router):
        app.include_router(router, prefix=prefix, include_in_schema=False)
    renderers.register(prefix, pages.error)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(login_url(prefix, exc.next_path), status_code=303)

    app.add_exception_handler(LoginRequired, login_required)


def _static_router() -> APIRouter:
    router = APIRouter()
    router.add_api_route("/static/console.css", _stylesheet, methods=["GET"])
    return router


def _stylesheet(pages: PagesDep) -> Response:
    return pages.stylesheet()
