"""``/docs``: Swagger UI served from the installed package, so the page works with no internet.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN: on a machine without internet
(or behind a proxy that blocks it) ``/docs`` is a blank page. The ``swagger-ui-bundle-v2`` package ships
Swagger UI's dist files (Apache-2.0, licence in its wheel); Swagger UI 5 is needed for the OpenAPI 3.1
document FastAPI writes. Only the three files the page loads are served, by name.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # (untyped: a path and files only)

from memhub.core.errors import NotFound

ASSETS = "/docs/assets"
_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


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
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=oauth_redirect,
        )

    async def oauth_page() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(name: str) -> Response:
        media_type = _MEDIA_TYPES.get(name)
        if media_type is None:
            raise NotFound(f"no docs asset {name!r}")
        content = (Path(str(swagger_ui_path)) / name).read_bytes()
        return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(oauth_redirect, oauth_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{ASSETS}/{{name}}", asset, methods=["GET"], include_in_schema=False)
