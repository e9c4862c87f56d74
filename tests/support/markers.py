"""The rule that gives every test its kind: ``unit``, ``e2e``, ``reliability`` or ``bench``.

- ``tests/benchmarks/`` → ``bench``; ``tests/reliability/`` → ``reliability`` (whatever they start).
- ``e2e``: a test marked so by hand (it starts ``memhub`` processes itself), or one that uses, directly
  or through another fixture, a fixture that starts a ``memhub serve``/``memhub worker`` process or
  PostgreSQL: the shared ones (:data:`SERVER_FIXTURES`) or any whose code calls a starter
  (:data:`STARTERS`).
- ``unit``: everything else. It may use real SQLite files, in-process apps and local fake servers, but
  starts no memhub/uvicorn/PostgreSQL process — enforced while its fixtures are set up and while it runs
  (:func:`guard_unit_processes`, installed by ``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

KIND_MARKERS = ("unit", "e2e", "reliability", "bench")
SERVER_FIXTURES = frozenset({"server", "start_server", "postgres_server", "pg_url"})
"""Fixtures that start a ``memhub serve`` process or an embedded PostgreSQL server."""

STARTERS = re.compile(r"\b(launch_server|start_server|start_worker|run_memhub|start_postgres)\(")
"""Calls that start a server process (``support.server``, ``support.postgres``)."""

TESTS = Path(__file__).resolve().parents[1]
FOLDER_KINDS = {"benchmarks": "bench", "reliability": "reliability"}
SERVER_PROGRAMS = ("memhub", "uvicorn", "postgres", "pg_ctl", "initdb")


def kind_of(item: pytest.Item) -> pytest.MarkDecorator:
    """The marker a test gets by the rule above (a hand-set ``e2e`` is kept by the caller)."""
    folder = Path(str(item.path)).resolve().relative_to(TESTS).parts[0]
    if folder in FOLDER_KINDS:
        return getattr(pytest.mark, FOLDER_KINDS[folder])
    if item.get_closest_marker("e2e") or _uses_a_server(item):
        return pytest.mark.e2e
    return pytest.mark.unit


def _uses_a_server(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if names & SERVER_FIXTURES:
        return True
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs if info is not None else {}
    return any(_starts_a_server(d.func) for name in names for d in definitions.get(name, ()))


@functools.cache
def _starts_a_server(func: Callable[..., Any]) -> bool:
    try:
        return bool(STARTERS.search(inspect.getsource(func)))
    except (OSError, TypeError):
        return False


def starts_a_server(args: Any) -> bool:
    """``python -m memhub …``, ``uvicorn …`` or a PostgreSQL binary."""
    argv = [args] if isinstance(args, (str, bytes)) else list(args)
    words = [str(a) for a in argv]
    if any(Path(w).name in SERVER_PROGRAMS for w in words[:1]):
        return True
    return any(a == "-m" and b in SERVER_PROGRAMS for a, b in itertools.pairwise(words))


def guard_unit_processes(popen: type[Any]) -> type[Any]:
    """``subprocess.Popen`` that refuses to start a server from a unit test."""

    class GuardedPopen(popen):  # type: ignore[misc,valid-type]
        def __init__(self, args: Sequence[Any] | str, *rest: Any, **kwargs: Any) -> None:
            if starts_a_server(args):
                raise AssertionError(f"a unit test started {args!r}: mark it e2e (pytest.mark.e2e)")
            super().__init__(args, *rest, **kwargs)

    return GuardedPopen
