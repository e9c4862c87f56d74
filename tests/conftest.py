"""Fixtures shared by every test package: free ports and real ``memhub serve`` processes.

* ``server`` — one server for the whole session (start-up costs a model load). Tests sharing it use
  their own user ids, spaces or tenants so they do not see each other's data.
* ``start_server(**settings)`` — a factory for tests that need their own server: other settings
  (``rate_limit_per_minute=5``, ``worker=False``…), extra ``env``, a given ``data_dir`` (e.g. to restart
  on the same data), or a server they will kill themselves. Servers still running at the end of the test
  are stopped with SIGTERM.

Both yield :class:`support.server.ServerHandle` (``.base_url``, ``.api_key``, ``.data_dir``,
``.process``, ``.client()``, ``.memhub(...)``, ``.stop()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.postgres import pg_url, postgres_server  # noqa: F401 -- fixtures, shared by packages
from support.server import ServerHandle, StartServer, launch_server
from support.server import free_port as _free_port


@pytest.fixture
def free_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = launch_server(tmp_path_factory.mktemp("memhub-server"))
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def outbound_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A server whose operator allows tenant-registered endpoints on 127.0.0.1 (where test fakes listen).

    The default server refuses them (the outbound policy), as production servers should.
    """
    handle = launch_server(tmp_path_factory.mktemp("memhub-outbound"), outbound_allow="127.0.0.1")
    yield handle
    handle.stop()


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServer]:
    started: list[ServerHandle] = []

    def start(data_dir: Path | None = None, **settings: Any) -> ServerHandle:
        handle = launch_server(data_dir or tmp_path_factory.mktemp("memhub-server"), **settings)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()
