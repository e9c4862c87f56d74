"""``create_app`` in-process: lifespan, private docs, adapter mounting.

The store and the service are real; the embedder is the small deterministic test one, because these
tests are about the app's wiring, not about retrieval quality (the e2e tests use the real model).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.testclient import TestClient

from memhub.api import create_app
from memhub.api.app import mount_adapters
from memhub.api.compat.adapter import ProtocolAdapter, error_route
from memhub.api.compat.doors import ADAPTERS
from memhub.api.errors import ApiError, ErrorRenderers
from memhub.core.errors import NotFound
from memhub.settings import Settings
from support.embedders import HashEmbedder


@pytest.fixture
def private_docs(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(data=tmp_path, docs_public=False, worker=False)
    with TestClient(create_app(settings, embedder=HashEmbedder())) as client:
        yield client, (tmp_path / "admin-key").read_text().strip()


def test_private_docs_need_a_key(private_docs: tuple[TestClient, str]) -> None:
    client, key = private_docs
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers={"Authorization": f"Bearer {key}"})
    assert spec.status_code == 200 and "/v1/memories" in spec.json()["paths"]
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/health").json()["status"] == "ok"


def test_docs_and_redoc_pages_load_only_this_servers_assets(tmp_path: Path) -> None:
    """Both pages must work offline: every script, stylesheet and icon they name is served here."""
    with TestClient(create_app(Settings(data=tmp_path, worker=False), embedder=HashEmbedder())) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html)
            assert assets and all(a.startswith("/") for a in assets), (page, assets)
            for asset in assets:
                served = client.get(asset)
                assert served.status_code == 200 and len(served.content) > 500, (page, asset)


def test_lifespan_owns_the_runtime(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(data=tmp_path, worker=True), embedder=HashEmbedder())
    with caplog.at_level(logging.INFO), TestClient(app) as client:
        assert app.state.service is app.state.runtime.service
        key = (tmp_path / "admin-key").read_text().strip()
        info = client.get("/v1/info", headers={"Authorization": f"Bearer {key}"}).json()
        assert info["embedder"] == {"model": "test-hash-64", "dim": 64}
        assert "worker" in caplog.text and "started" in caplog.text
    assert "leases released" in caplog.text and "memhub stopped" in caplog.text


def test_every_door_is_mounted_at_its_setting_and_gomemory_only_with_a_tenant(tmp_path: Path) -> None:
    default = Settings(data=tmp_path)
    assert mount_adapters(FastAPI(), default, ErrorRenderers(), ADAPTERS) == [
        "/gumem",
        "/goodmem",
        "/memsy/v1",
        "/mem0",
    ]
    moved = Settings(
        data=tmp_path, gomemory_tenant="t", memsy_prefix="/m/", gumem_prefix="g", mem0_prefix="/zero/"
    )
    assert mount_adapters(FastAPI(), moved, ErrorRenderers(), ADAPTERS) == [
        "/g",
        "/goodmem",
        "/m",
        "/gomemory",
        "/zero",
    ]


class _EchoSettings(Settings):
    echo_prefix: str = "/echo"


def _echo_error(error: ApiError) -> Response:
    return JSONResponse({"echo_error": error.message}, status_code=error.status)


def _echo_router(settings: Settings) -> APIRouter:
    api = APIRouter(route_class=error_route(_echo_error, name="echo"))

    @api.get("/things/{thing_id}")
    def get_thing(thing_id: str) -> dict[str, str]:
        raise NotFound(f"no thing {thing_id}")

    return api


def test_a_new_door_is_one_adapter_added_to_the_list(tmp_path: Path) -> None:
    echo = ProtocolAdapter("echo", "echo_prefix", _echo_router, _echo_error)
    settings = _EchoSettings(data=tmp_path, worker=False)
    app = create_app(settings, embedder=HashEmbedder(), adapters=[*ADAPTERS, echo], bootstrap_key=False)
    with TestClient(app) as client:
        inside = client.get("/echo/things/t1")  # raised in its route: rendered by the route class
        assert (inside.status_code, inside.json()) == (404, {"echo_error": "no thing t1"})
        outside = client.get("/echo/nowhere")  # no route: the app's renderer for the prefix
        assert outside.status_code == 404 and set(outside.json()) == {"echo_error"}
        assert set(client.get("/nowhere").json()) == {"error"}  # elsewhere the native envelope
