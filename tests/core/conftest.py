"""A real engine on a temporary SQLite file with the bundled local model (loaded once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memhub.core.ports import Embedder
from memhub.runtime import Runtime, build_embedder
from memhub.settings import Settings


@pytest.fixture(scope="session")
def local_embedder() -> Embedder:
    return build_embedder(Settings())


@pytest.fixture
def runtime(tmp_path: Path, local_embedder: Embedder) -> Iterator[Runtime]:
    rt = Runtime.open(Settings(data=tmp_path), embedder=local_embedder)
    yield rt
    rt.close()
