"""``/docs`` and ``/redoc``: Swagger UI and ReDoc served from an installed package, so both pages work
with no internet.

FastAPI's default pages load their scripts and stylesheets from a CDN (and ReDoc's its fonts from Google):
on a machine without internet (or behind a proxy that blocks it) they are blank pages. The
``fastapi-standalone-docs`` package ships Swagger UI 5's bundle and stylesheet (Apache-2.0; Swagger UI 5
is needed for the OpenAPI 3.1 document FastAPI writes), ReDoc's standalone bundle (MIT) and FastAPI's
favicon (MIT), each with its licence; memhub only reads those files, it does not use the package's
patching of FastAPI. Only the files the pages load are served, by name (docs/decisions/docs-offline.md).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_standalone_docs
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

from memhub.core.errors import NotFound

ASSETS = "/docs/assets"
REDOC_ASSETS = "/redoc/assets"
_ASSETS = {  # name: (folder of the package's static files, media type)
    "swagger-ui-bundle.js": ("swagger", "text/javascript"),
    "swagger-ui.css": ("swagger", "text/css"),
    "favicon.png": ("fastapi", "image/png"),
}
_REDOC_JS = "redoc.standalone.js"
_CACHE = {"Cache-Control": "public, max-age=86400"}


def add_docs_routes(app: FastAPI, openapi_url: str) -> None:
    """``/docs``, its OAuth helper page and its assets (all static: no tenant data, no key)."""
    title = f"{app.title} API"
    oauth_redirect = "/docs/oauth2-redirect"

    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            oauth2_redirect_url=oauth_redirect,
        )

    async def oauth_page() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise NotFound(f"no docs asset {name!r}")
        folder, media_type = _ASSETS[name]
        content = (_static(folder) / name).read_bytes()
        return Response(content, media_type=media_type, headers=_CACHE)

    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(oauth_redirect, oauth_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{ASSETS}/{{name}}", asset, methods=["GET"], include_in_schema=False)
    _add_redoc_routes(app, openapi_url, title)


def _add_redoc_routes(app: FastAPI, openapi_url: str, title: str) -> None:
    """``/redoc`` and its one script (the favicon is served with /docs's assets)."""

    async def redoc_page() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{REDOC_ASSETS}/{_REDOC_JS}",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,  # fonts.googleapis.com: ReDoc falls back to the browser's fonts
        )

    async def redoc_script() -> Response:
        content = (_static("redoc") / _REDOC_JS).read_bytes()
        return Response(content, media_type="text/javascript", headers=_CACHE)

    app.add_api_route("/redoc", redoc_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{REDOC_ASSETS}/{_REDOC_JS}", redoc_script, methods=["GET"], include_in_schema=False)


def _static(folder: str) -> Path:
    """One of the package's folders of static files: ``swagger``, ``redoc`` or ``fastapi``."""
    return Path(next(iter(fastapi_standalone_docs.__path__))) / "static" / folder
