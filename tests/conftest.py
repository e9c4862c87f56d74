"""Fixtures shared by every test package: free ports and real ``memhub serve`` processes.

* ``server`` — one server for the whole session (start-up costs a model load). Tests sharing it use
  their own user ids, spaces or tenants so they do not see each other's data.
* ``start_server(**settings)`` — a factory for tests that need their own server: other settings
  (``rate_limit_per_minute=5``, ``worker=False``…), extra ``env``, a given ``data_dir`` (e.g. to restart
  on the same data), or a server they will kill themselves. Servers still running at the end of the test
  are stopped with SIGTERM.

Both yield :class:`support.server.ServerHandle` (``.base_url``, ``.api_key``, ``.data_dir``,
``.process``, ``.client()``, ``.memhub(...)``, ``.stop()``).

Every test gets exactly one of the markers ``unit``, ``e2e``, ``reliability``, ``bench`` (see
:func:`pytest_collection_modifyitems`), so ``pytest -m unit`` is the fast, process-free part of the suite.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.markers import KIND_MARKERS, guard_unit_processes, kind_of
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its kind marker, by folder and by the fixtures it uses (see ``support.markers``)."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in KIND_MARKERS if name != "unit"):
            item.add_marker(kind_of(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Keeps the ``unit`` marker honest: while a unit test's fixtures are set up (module-scoped ones
    included) and while it runs, starting a memhub, uvicorn or PostgreSQL process fails, saying to mark
    the test ``e2e``."""
    with _unit_guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _unit_guard(item):
        return (yield)


@contextlib.contextmanager
def _unit_guard(item: pytest.Item) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        if item.get_closest_marker("unit"):
            patch.setattr(subprocess, "Popen", guard_unit_processes(subprocess.Popen))
        yield
