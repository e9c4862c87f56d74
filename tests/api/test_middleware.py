"""The last-resort 500, per-prefix error rendering and the rate limiter, on small in-process apps.

These parts are real (the same middleware, handlers and limiter ``create_app`` installs); only the routes
are made up, because a healthy server has no route that fails unexpectedly.
"""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.testclient import TestClient

from memhub.api.errors import ApiError, ErrorRenderers, install_error_handlers
from memhub.api.middleware import BodyLimitMiddleware, RequestLogMiddleware
from memhub.api.ratelimit import RateLimiter
from memhub.core.errors import NotFound, RateLimited


def _memsy_style(error: ApiError) -> Response:
    return JSONResponse({"detail": {"error": error.code, "message": error.message}}, status_code=error.status)


def _app() -> FastAPI:
    renderers = ErrorRenderers()
    renderers.register("/memsy/v1", _memsy_style)
    app = FastAPI(
        middleware=[
            Middleware(RequestLogMiddleware, renderers=renderers),
            Middleware(BodyLimitMiddleware, max_bytes=1024, renderers=renderers),
        ]
    )
    install_error_handlers(app, renderers)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    @app.get("/memsy/v1/thing")
    def thing() -> None:
        raise NotFound("no such thing")

    @app.post("/memsy/v1/echo")
    def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    return app


def test_unexpected_errors_are_a_generic_500_logged_with_trace(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(_app()) as client, caplog.at_level(logging.INFO):
        response = client.get("/v1/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal" and "hunter2" not in response.text
    failure = next(r for r in caplog.records if r.name == "memhub.api")
    assert failure.exc_info is not None and "RuntimeError" in caplog.text
    access = next(r for r in caplog.records if r.name == "memhub.access")
    assert access.getMessage().startswith("GET /v1/boom 500")


def test_access_log_names_the_route_template_not_the_raw_path(caplog: pytest.LogCaptureFixture) -> None:
    app = _app()
    router = APIRouter(prefix="/v1/users")

    @router.get("/{user_id}/notes")
    def notes(user_id: str) -> list[str]:
        return []

    app.include_router(router)
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        assert client.get("/v1/users/alice-4711/notes").status_code == 200
        assert client.get("/memsy/v1/thing").status_code == 404
        assert client.get("/v1/unknown/bob-0815").status_code == 404
        assert client.get("/v1/boom").status_code == 500
    logged = [r.getMessage() for r in caplog.records if r.name in ("memhub.access", "memhub.api")]
    assert any(line.startswith("GET /v1/users/{user_id}/notes 200 ") for line in logged), logged
    assert any(line.startswith("GET /memsy/v1/thing 404 ") for line in logged), logged
    assert any(line.startswith("GET <unmatched> 404 ") for line in logged), logged
    assert "unhandled error on GET /v1/boom" in logged
    assert not any("alice-4711" in line or "bob-0815" in line for line in logged)
    access = next(r for r in caplog.records if r.name == "memhub.access")
    assert access.__dict__["path"] == "/v1/users/{user_id}/notes"


def test_adapters_render_errors_in_their_own_shape() -> None:
    with TestClient(_app()) as client:
        assert client.get("/memsy/v1/thing").json() == {
            "detail": {"error": "not_found", "message": "no such thing"}
        }
        assert client.get("/memsy/v1/missing").json()["detail"]["error"] == "not_found"
        assert client.post("/memsy/v1/echo", json={"a": "x"}).json()["detail"]["error"] == "invalid_input"
        too_big = client.post("/memsy/v1/echo", content=b"1" * 2048)
        assert too_big.status_code == 413 and too_big.json()["detail"]["error"] == "limit_exceeded"
        assert client.get("/memsy/v1x").json()["error"]["code"] == "not_found", (
            "prefixes match whole segments"
        )


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("k")
    limiter.check("k")
    with pytest.raises(RateLimited) as raised:
        limiter.check("k")
    assert raised.value.retry_after == pytest.approx(30.0)
    limiter.check("other")
    now[0] = 30.0
    limiter.check("k")
    with pytest.raises(RateLimited):
        limiter.check("k")
