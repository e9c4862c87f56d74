"""Vendor clients that cannot share the test venv, built from their registries into ``test-artifacts/``.

Two lines of one PyPI package cannot live in one venv (``mem0ai`` 2.x is in the dev extra, 1.x gets its
own venv here), and an npm client needs a Node project. Each is built once, on first use, from the
public registry by its ordinary client (``pip``, ``npm``), and kept under the git-ignored
``test-artifacts/`` with a marker naming what was installed; a changed pin rebuilds it. A missing
``node``/``npm`` is a test failure that says what to install, never a skip: CI installs Debian's
``nodejs`` and ``npm`` in ``.ci/run``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
INSTALL_TIMEOUT = 900.0


def _marked(home: Path, spec: str) -> bool:
    marker = home / ".installed"
    return marker.is_file() and marker.read_text(encoding="utf-8") == spec


def _run(command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(
        command, check=False, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def python_client(spec: str) -> Path:
    """The interpreter of a venv holding ``spec`` (e.g. ``mem0ai==1.0.11``) and its dependencies."""
    home = ARTIFACTS / "client-venvs" / spec.replace("==", "-")
    python = home / "bin" / "python"
    if not _marked(home, spec):
        shutil.rmtree(home, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(home)])
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec])
        (home / ".installed").write_text(spec, encoding="utf-8")
    return python


def node() -> str:
    """The ``node`` executable, or a failure that says how to get it (the recipe must not be skipped)."""
    found = shutil.which("node")
    if found is None or shutil.which("npm") is None:
        pytest.fail(
            "node and npm are needed for the npm client recipes: install Node.js 18+ (Debian: nodejs npm)"
        )
    return found


def npm_project(spec: str) -> Path:
    """A Node project folder with ``spec`` (e.g. ``mem0ai@3.3.1``) installed, without its peer packages.

    ``--legacy-peer-deps``: the package lists dozens of optional vector-store peers the client never loads;
    ``--ignore-scripts``: nothing is compiled or fetched by install scripts.
    """
    node()
    home = ARTIFACTS / "npm" / spec.replace("@", "-").strip("-")
    if not _marked(home, spec):
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        (home / "package.json").write_text(
            '{"name": "memhub-client-recipes", "private": true}\n', encoding="utf-8"
        )
        npm = shutil.which("npm") or "npm"
        _run(
            [npm, "install", "--no-audit", "--no-fund", "--legacy-peer-deps", "--ignore-scripts", spec],
            cwd=home,
        )
        (home / ".installed").write_text(spec, encoding="utf-8")
    return home
