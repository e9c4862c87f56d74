"""``create_app`` in-process: lifespan, private docs, adapter mounting.

The store and the service are real; the embedder is the small deterministic test one, because these
tests are about the app's wiring, not about retrieval quality (the e2e tests use the real model).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from memhub.api import create_app
from memhub.api.app import ADAPTERS, Adapter, mount_adapters
from memhub.api.errors import ErrorRenderers
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
    assert client.get("/health").json()["status"] == "ok"


def test_lifespan_owns_the_runtime(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(data=tmp_path, worker=True), embedder=HashEmbedder())
    with caplog.at_level(logging.INFO), TestClient(app) as client:
        assert app.state.service is app.state.runtime.service
        key = (tmp_path / "admin-key").read_text().strip()
        info = client.get("/v1/info", headers={"Authorization": f"Bearer {key}"}).json()
        assert info["embedder"] == {"model": "test-hash-64", "dim": 64}
        assert "worker" in caplog.text and "started" in caplog.text
    assert "leases released" in caplog.text and "memhub stopped" in caplog.text


def test_only_existing_adapter_modules_are_mounted(tmp_path: Path) -> None:
    app = FastAPI()
    missing = [Adapter("/nope", "no_such_protocol")]
    assert mount_adapters(app, Settings(data=tmp_path), ErrorRenderers(), missing) == []
    assert [a.prefix for a in ADAPTERS] == ["/gumem", "/goodmem", "/memsy/v1", "/gomemory", "/mem0"]
