"""Fixtures shared by the protocol-door tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memhub.core.service import MemoryService
from memhub.runtime import Runtime
from memhub.settings import Settings
from support.embedders import HashEmbedder


@pytest.fixture
def service(tmp_path: Path) -> Iterator[MemoryService]:
    """memhub's service on a fresh SQLite store, no worker, with the deterministic hash embedder."""
    runtime = Runtime.open(Settings(data=tmp_path, worker=False), embedder=HashEmbedder())
    try:
        yield runtime.service
    finally:
        runtime.close()
