"""Fixtures of the console tests: the app in-process (``console``), signed out to begin with.

The store and the service are real (a SQLite file, the worker running); the embedder is the small
deterministic test one, because these tests are about the console's pages, auth and escaping, not about
retrieval quality. The browser test (``test_console_browser.py``) drives a real ``memhub serve``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_app import Console
from starlette.testclient import TestClient

from memhub.api import create_app
from memhub.settings import Settings
from support.embedders import HashEmbedder


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    app = create_app(Settings(data=tmp_path), embedder=HashEmbedder())
    with TestClient(app, follow_redirects=False) as http:
        yield Console(http, (tmp_path / "admin-key").read_text().strip())
