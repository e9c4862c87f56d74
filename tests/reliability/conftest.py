"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.server import ServerHandle, launch_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    """A real ``memhub serve`` of this module's own, on SQLite and then on a fresh PostgreSQL database."""
    settings: dict[str, Any] = {"log_level": "warning"}
    if request.param == "postgresql":
        settings["database_url"] = request.getfixturevalue("postgres_server").new_database()
    handle = launch_server(tmp_path_factory.mktemp(f"server-{request.param}"), **settings)
    yield handle
    handle.stop()
