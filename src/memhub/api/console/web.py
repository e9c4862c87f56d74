"""Rendering console pages: one Jinja2 environment, the stylesheet, the headers every page gets.

Autoescaping is on for every template, unconditionally: nearly everything the console shows (memory
text, message content, user ids, metadata) is user data, so nothing is ever marked safe. Pages are sent
with a Content-Security-Policy that allows no script and no inline style at all, so even markup that
slipped through could not run; with ``no-store`` so a shared browser's back button or disk cache does
not keep a tenant's data; and with ``same-origin`` referrers so ids in console URLs never leak to other
sites (``no-referrer`` would also make browsers send ``Origin: null`` on the console's own form posts,
which ``session.check_form`` refuses).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from memhub._version import __version__

from ..errors import ApiError
from .session import Viewer

HERE = Path(__file__).parent
NOTICE_COOKIE = "memhub_console_notice"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Pages:
    """The console's templates and stylesheet, loaded once per app (``app.state.console``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=format_when, pretty=format_json, seg=quote_segment, score=format_score)
        self.css = (HERE / "static" / "console.css").read_bytes()
        self.css_version = hashlib.sha256(self.css).hexdigest()[:12]
        self.env.globals.update(prefix=prefix, version=__version__, css_version=self.css_version, qs=query)

    def render(
        self,
        request: Request,
        template: str,
        *,
        viewer: Viewer | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        notice = _read_notice(request.cookies.get(NOTICE_COOKIE))
        html = self.env.get_template(template).render(
            viewer=viewer, path=request.url.path, notice=notice, **context
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if notice is not None:
            response.delete_cookie(NOTICE_COOKIE, path=self.prefix)
        return response

    def redirect(self, path: str, notice: str | None = None) -> Response:
        """A 303 to a console page, which shows ``notice`` once (a flash message kept in a cookie).

        The text travels in a cookie rather than the URL so that no link can make the console display
        a message of someone else's choosing.
        """
        response = RedirectResponse(self.prefix + path, status_code=303)
        if notice is not None:
            value = base64.urlsafe_b64encode(notice.encode("utf-8")).decode("ascii")
            response.set_cookie(
                NOTICE_COOKIE, value, max_age=60, path=self.prefix, httponly=True, samesite="strict"
            )
        return response

    def error(self, error: ApiError) -> Response:
        """The console's error renderer (registered for its prefix): a small HTML page, same status."""
        headers = {**error.headers, **SECURITY_HEADERS}
        try:
            html = self.env.get_template("error.html").render(viewer=None, path="", notice=None, error=error)
        except TemplateError:  # this also renders the last-resort 500: it must not fail in turn
            return PlainTextResponse(f"{error.status} {error.message}", error.status, headers=headers)
        return HTMLResponse(html, status_code=error.status, headers=headers)

    def stylesheet(self) -> Response:
        # The URL carries the content hash (?v=…), so the file can be cached for good.
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(self.css, media_type="text/css", headers=headers)


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.console
    return pages


def _read_notice(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return None


def format_when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def format_score(value: float) -> str:
    return f"{value:.3f}"


def quote_segment(value: str) -> str:
    """A caller-chosen id as one URL path segment (``/`` and everything else reserved, encoded)."""
    return quote(value, safe="")


def query(**params: Any) -> str:
    """``?a=1&b=2`` from the non-empty parameters (for links that keep a listing's filters)."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return "?" + urlencode(kept, doseq=True) if kept else ""


PagesDep = Annotated[Pages, Depends(get_pages)]
