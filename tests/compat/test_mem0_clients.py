"""The other mem0 clients against a real ``memhub serve``: the last 1.x Python client and the npm 3.x client.

``mem0ai`` 2.2.1 (sync and async) runs in-process in ``test_mem0.py``. The last 1.x line (``/v1`` and
``/v2`` paths, ``async_mode``) cannot share that venv, and the npm client runs under ``node``; each runs
its recipe (``mem0_recipes/``) in its own environment built from the registry into ``test-artifacts/``
(``support/client_envs.py``). The recipes print ``ok <step>`` per step and exit non-zero on the first
failed assertion; the test checks every step ran. Telemetry is off (the Python clients read
``MEM0_TELEMETRY=False``, the npm client ``false``) and each client's config folder is a temporary one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.client_envs import node, npm_project, python_client
from support.server import ServerHandle

RECIPES = Path(__file__).with_name("mem0_recipes")
PYTHON_1X = "mem0ai==1.0.11"
NPM_3X = "mem0ai@3.3.1"
RUN_TIMEOUT = 300.0


def _env(server: ServerHandle, home: Path, **extra: str) -> dict[str, str]:
    """Only what the recipe needs: no developer MEM0_* variables leak in, and HOME is a scratch folder."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "MEM0_HOST": server.base_url + "/mem0",
        "MEM0_KEY": server.api_key,
        "MEM0_OTHER_KEY": server.create_key(f"mem0-other-{home.name}"),
        "MEM0_DIR": str(home / ".mem0"),
        **extra,
    }


def _run_recipe(command: list[str], cwd: Path, env: dict[str, str], steps: list[str]) -> None:
    done = subprocess.run(
        command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    report = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr[-4000:]}"
    assert done.returncode == 0, report
    ran = [line.removeprefix("ok ") for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert ran == steps, report
    assert "recipe passed" in done.stdout, report


@pytest.mark.timeout(1200)  # the first run builds the venv from PyPI
def test_the_last_1x_python_client_runs_the_everyday_flow(server: ServerHandle, tmp_path: Path) -> None:
    python = python_client(PYTHON_1X)
    version = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('mem0ai'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "1.0.11"
    env = _env(server, tmp_path, MEM0_TELEMETRY="False")
    steps = [
        "ping",
        "add (async_mode default) + event polling",
        "add async_mode=False infer=False",
        "search v2",
        "get_all v2",
        "get/update/history",
        "batch_update",
        "users/delete/delete_all",
        "refusals",
        "isolation",
        "async client",
    ]
    _run_recipe([str(python), str(RECIPES / "recipe_v1.py")], tmp_path, env, steps)


@pytest.mark.timeout(1200)  # the first run installs the package from npm
def test_the_npm_3x_client_runs_the_everyday_flow_under_node(server: ServerHandle, tmp_path: Path) -> None:
    project = npm_project(NPM_3X)
    script = project / "recipe.cjs"  # beside node_modules, where require() finds the package
    script.write_text((RECIPES / "recipe.cjs").read_text(encoding="utf-8"), encoding="utf-8")
    env = _env(server, tmp_path, MEM0_TELEMETRY="false")
    steps = [
        "ping",
        "add infer=false",
        "add + event polling",
        "search",
        "getAll",
        "get/update/history",
        "batch",
        "users",
        "delete/deleteAll/deleteUsers",
        "refusals",
        "isolation",
    ]
    _run_recipe([node(), str(script)], project, env, steps)
